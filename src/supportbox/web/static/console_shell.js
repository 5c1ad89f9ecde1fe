// The console's command shell: xterm.js on one live protocol channel
// (docs/protocol.md, "Shells"). One shell panel at a time; it belongs to
// the session that opened it and hides while another session is shown.
"use strict";

const shell = {
  lsid: null, channel: null, term: null, fit: null, observer: null,
  running: false, size: "", encoder: new TextEncoder(),
};

function shellState(text, kind = "") {
  const node = $("shell-state");
  node.textContent = text;
  node.className = `shell-state ${kind}`;
}

function showTools() {
  const here = Boolean(state.current);
  $("open-shell").disabled = !here || !window.Terminal || Boolean(shell.term && shell.running);
  $("send-file").disabled = !here;
  $("fetch-file").disabled = !here;
  $("shell").hidden = !shell.term || shell.lsid !== state.current;
  if (!$("shell").hidden) shell.fit.fit();
}

function newTerminal() {
  const term = new Terminal({
    cursorBlink: true,
    fontFamily: '"DejaVu Sans Mono", ui-monospace, monospace',
    fontSize: 13,
    scrollback: 5000,
    theme: { background: "#11161c", foreground: "#e6edf3" },
  });
  const fit = new FitAddon.FitAddon();
  term.loadAddon(fit);
  return { term, fit };
}

async function openShell() {
  if (!state.current) return;
  disposeShell();
  const { term, fit } = newTerminal();
  Object.assign(shell, { lsid: state.current, term, fit, running: false, channel: null });
  $("terminal").replaceChildren();
  $("shell").hidden = false;
  term.open($("terminal"));
  fit.fit();
  shell.size = `${term.cols}x${term.rows}`;
  $("shell-title").textContent = `Command shell · ${$("session-title").textContent}`;
  shellState("Waiting for the customer to allow it…", "wait");
  showTools();

  let answer;
  try {
    answer = await send("shell_open",
      { lsid: shell.lsid, width: term.cols, height: term.rows }, { quiet: true });
  } catch (error) {
    if (shell.term === term) shellEnded(`Not opened: ${error.message}`);
    return;
  }
  if (shell.term !== term) return;
  shell.channel = answer.channel;
  onChannel(answer.channel, shellMessage);
  term.onData((text) => typed(shell.encoder.encode(text)));
  term.onBinary((text) => typed(Uint8Array.from(text, (c) => c.charCodeAt(0))));
  shell.observer = new ResizeObserver(() => requestAnimationFrame(resized));
  shell.observer.observe($("terminal"));
}

function typed(data) {
  if (shell.running) sendData(shell.channel, 0, data);
}

function shellMessage(message) {
  switch (message.type) {
    case "data": shell.term.write(message.bytes); break;
    case "shell_opened":
      shell.running = true;
      shellState("Running", "ok");
      showTools();
      resized();
      shell.term.focus();
      break;
    case "shell_closed": shellEnded(`Closed: ${message.reason}`); break;
    case "lost": shellEnded(`Closed: ${message.reason}`); break;
    default: break;
  }
}

function resized() {
  if (!shell.term || $("shell").hidden) return;
  shell.fit.fit();
  const size = `${shell.term.cols}x${shell.term.rows}`;
  if (!shell.running || size === shell.size) return;
  shell.size = size;
  send("shell_resize", { channel: shell.channel, width: shell.term.cols, height: shell.term.rows },
    { quiet: true }).catch(() => {});
}

// The shell is gone; its output stays readable until the panel is closed.
function shellEnded(text) {
  if (shell.channel !== null) dropChannel(shell.channel);
  if (shell.observer) shell.observer.disconnect();
  Object.assign(shell, { running: false, channel: null, observer: null });
  shellState(text, "bad");
  $("close-shell").textContent = "Dismiss";
  showTools();
}

function disposeShell() {
  if (shell.observer) shell.observer.disconnect();
  if (shell.channel !== null) dropChannel(shell.channel);
  if (shell.term) shell.term.dispose();
  Object.assign(shell, {
    lsid: null, channel: null, term: null, fit: null, observer: null, running: false,
  });
  $("close-shell").textContent = "Close shell";
  $("terminal").replaceChildren();
}

async function closeShell() {
  if (shell.running) {
    const channel = shell.channel;
    shellState("Closing…", "wait");
    await send("shell_close", { channel, reason: "closed by the representative" },
      { quiet: true }).catch(() => {});
  }
  disposeShell();
  showTools();
}

function forgetShell(lsid) {
  if (shell.lsid !== lsid) return;
  disposeShell();
  showTools();
}

$("open-shell").addEventListener("click", openShell);
$("close-shell").addEventListener("click", closeShell);
showTools();
