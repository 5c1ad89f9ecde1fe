// The customer's screen in the console: a canvas drawn from the parts of
// screen updates (docs/protocol.md, "Screen sharing and remote control"),
// and, once the customer grants control, the mouse and keyboard sent back
// as screen_input. Uses console.js's send, onChannel and state.
"use strict";

(() => {
  const panel = document.getElementById("screen-panel");
  if (!panel) return;
  const raw = (frame) => {
    if (state.socket?.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(frame));
  };

  const MIME = { 1: "image/png", 2: "image/jpeg" };
  const viewer = {
    channel: null, lsid: null, width: 0, height: 0, updates: 0, control: false, ready: false,
    chain: Promise.resolve(),
  };
  window.screenViewer = viewer;

  // The panel (control buttons and the canvas) shows only while a screen
  // of the open session is shared; "View screen" and the sharing state sit
  // in the session's toolbar with the shell and file buttons.
  const canvas = document.createElement("canvas");
  canvas.id = "screen-canvas";
  canvas.className = "screen-canvas";
  canvas.tabIndex = 0;
  canvas.width = canvas.height = 0;
  canvas.setAttribute("aria-label", "The customer's screen");
  const context = canvas.getContext("2d");
  const status = document.createElement("span");
  status.id = "screen-status";
  status.className = "transfer-state";
  status.setAttribute("role", "status");
  const button = (id, text, onclick) => {
    const node = document.createElement("button");
    node.id = id;
    node.className = "small";
    node.textContent = text;
    node.addEventListener("click", onclick);
    return node;
  };
  const openButton = button("screen-open", "View screen", async () => {
    if (!state.current) return;
    const lsid = state.current;
    status.className = "transfer-state wait";
    status.textContent = "Asking the customer to share the screen…";
    try {
      const answer = await send("screen_open", { lsid }, { quiet: true });
      viewer.lsid = lsid;
      onChannel(answer.channel, (message) => onMessage(answer.channel, message));
    } catch (error) {
      status.className = "transfer-state bad";
      status.textContent = `Screen not shared: ${error.message}`;
    }
  });
  const controlButton = button("screen-control", "Request control", () => {
    if (viewer.control) raw({ type: "control_revoke", channel: viewer.channel });
    else send("control_request", { channel: viewer.channel }).catch(() => {});
  });
  // The server tells only the other side that sharing ended.
  const stop = (reason) => {
    const channel = viewer.channel;
    if (channel === null) return;
    send("screen_close", { channel }, { quiet: true }).catch(() => {});
    ended(channel, reason);
  };
  const stopButton = button("screen-stop", "Stop viewing", () => stop("stopped by you"));
  const title = document.createElement("strong");
  title.textContent = "Customer's screen";
  const bar = document.createElement("div");
  bar.className = "screen-head";
  bar.append(title, controlButton, stopButton);
  const view = document.createElement("div");
  view.className = "screen-view";
  view.append(canvas);
  panel.className = "screen-panel";
  panel.setAttribute("aria-label", "The customer's screen");
  panel.append(bar, view);
  const tools = document.querySelector(".tools");
  tools.insertBefore(openButton, document.getElementById("transfer-state"));
  tools.append(status);

  function clear() {
    // Nothing of a stopped screen stays: a zero-sized canvas holds no image.
    canvas.width = canvas.height = 0;
    viewer.ready = false;
  }

  function render() {
    const sharing = viewer.channel !== null;
    const here = Boolean(state.current) && (!sharing || viewer.lsid === state.current);
    panel.hidden = !sharing || viewer.lsid !== state.current;
    openButton.disabled = !state.current || sharing;
    openButton.hidden = !here && sharing;
    status.hidden = viewer.lsid !== null && viewer.lsid !== state.current;
    controlButton.textContent = viewer.control ? "Release control" : "Request control";
    controlButton.classList.toggle("danger", viewer.control);
    canvas.classList.toggle("controlled", viewer.control);
  }
  render();

  // Follows the console: another session shown, or this one closed.
  document.addEventListener("session-shown", render);
  document.addEventListener("session-closed", (event) => {
    if (event.detail.lsid === viewer.lsid) {
      stop("the session is closed");
      status.textContent = "";
    }
    render();
  });

  // drawing

  async function drawPart(bytes) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const flags = view.getUint8(0);
    const width = view.getUint16(1);
    const height = view.getUint16(3);
    const count = view.getUint16(5);
    const key = (flags & 2) !== 0;
    if (!viewer.ready && !key) return;
    if (key && (width !== canvas.width || height !== canvas.height)) {
      canvas.width = width;
      canvas.height = height;
    }
    viewer.ready = true;
    let offset = 7;
    const tiles = [];
    for (let i = 0; i < count; i++) {
      const x = view.getUint16(offset), y = view.getUint16(offset + 2);
      const encoding = view.getUint8(offset + 8), length = view.getUint32(offset + 9);
      const start = offset + 13;
      const blob = new Blob([bytes.subarray(start, start + length)], { type: MIME[encoding] });
      tiles.push(createImageBitmap(blob).then((bitmap) => ({ x, y, bitmap })));
      offset += 13 + length;
    }
    for (const { x, y, bitmap } of await Promise.all(tiles)) {
      context.drawImage(bitmap, x, y);
      bitmap.close();
    }
    if (flags & 1) {
      viewer.updates += 1;
      raw({ type: "screen_ack", channel: viewer.channel, update: viewer.updates });
    }
  }

  function ended(channel, reason) {
    dropChannel(channel);
    if (channel !== viewer.channel) return;
    Object.assign(viewer, { channel: null, control: false });
    clear();
    status.className = "transfer-state";
    status.textContent = `Screen sharing ended: ${reason}`;
    render();
  }

  function onMessage(channel, message) {
    switch (message.type) {
      case "data":
        // Parts are drawn one after the other, in the order they came.
        viewer.chain = viewer.chain.then(() => drawPart(message.bytes))
          .catch((error) => console.error(error));
        return;
      case "screen_opened":
        Object.assign(viewer, { channel, updates: 0, ready: false, control: false });
        canvas.width = message.width;
        canvas.height = message.height;
        status.className = "transfer-state ok";
        status.textContent = `Viewing the customer's screen (${message.width}×${message.height})`;
        break;
      case "screen_closed":
      case "lost":
        ended(channel, message.reason);
        return;
      case "control_granted":
        viewer.control = true;
        status.textContent = "You control the customer's screen";
        canvas.focus();
        break;
      case "control_refused":
      case "control_revoked":
        viewer.control = false;
        status.textContent = `No control: ${message.reason}`;
        break;
      default:
        return;
    }
    render();
  }

  // input, only while control is granted (the server checks it too)

  let moved = null;
  function input(events) {
    if (viewer.control) raw({ type: "screen_input", channel: viewer.channel, events });
  }
  function at(event) {
    const box = canvas.getBoundingClientRect();
    const x = Math.round((event.clientX - box.left) * canvas.width / box.width);
    const y = Math.round((event.clientY - box.top) * canvas.height / box.height);
    return {
      x: Math.max(0, Math.min(canvas.width - 1, x)),
      y: Math.max(0, Math.min(canvas.height - 1, y)),
    };
  }
  canvas.addEventListener("mousemove", (event) => {
    if (!viewer.control) return;
    // One move per animation frame at most.
    if (moved === null) requestAnimationFrame(() => { input([moved]); moved = null; });
    moved = { event: "move", ...at(event) };
  });
  for (const [name, kind] of [["mousedown", "button_down"], ["mouseup", "button_up"]]) {
    canvas.addEventListener(name, (event) => {
      if (!viewer.control) return;
      event.preventDefault();
      canvas.focus();
      input([{ event: "move", ...at(event) }, { event: kind, button: event.button + 1 }]);
    });
  }
  canvas.addEventListener("contextmenu", (event) => { if (viewer.control) event.preventDefault(); });
  canvas.addEventListener("wheel", (event) => {
    if (!viewer.control) return;
    event.preventDefault();
    input([{ event: "wheel", dx: Math.sign(event.deltaX), dy: Math.sign(event.deltaY) }]);
  }, { passive: false });

  const NAMED = {
    Enter: "Return", Backspace: "BackSpace", Tab: "Tab", Escape: "Escape", Delete: "Delete",
    ArrowLeft: "Left", ArrowRight: "Right", ArrowUp: "Up", ArrowDown: "Down",
    Home: "Home", End: "End", PageUp: "Prior", PageDown: "Next", Insert: "Insert",
    Shift: "Shift_L", Control: "Control_L", Alt: "Alt_L", Meta: "Super_L", CapsLock: "Caps_Lock",
    " ": "space", "!": "exclam", '"': "quotedbl", "#": "numbersign", $: "dollar",
    "%": "percent", "&": "ampersand", "'": "apostrophe", "(": "parenleft", ")": "parenright",
    "*": "asterisk", "+": "plus", ",": "comma", "-": "minus", ".": "period", "/": "slash",
    ":": "colon", ";": "semicolon", "<": "less", "=": "equal", ">": "greater",
    "?": "question", "@": "at", "[": "bracketleft", "\\": "backslash", "]": "bracketright",
    "^": "asciicircum", _: "underscore", "`": "grave", "{": "braceleft", "|": "bar",
    "}": "braceright", "~": "asciitilde",
  };
  function keysym(event) {
    if (NAMED[event.key]) return NAMED[event.key];
    if (/^F([1-9]|1[0-2])$/.test(event.key)) return event.key;
    if (/^[A-Za-z0-9]$/.test(event.key)) return event.key;
    return null;
  }
  for (const [name, kind] of [["keydown", "key_down"], ["keyup", "key_up"]]) {
    canvas.addEventListener(name, (event) => {
      const key = keysym(event);
      if (!viewer.control || key === null) return;
      event.preventDefault();
      input([{ event: kind, key }]);
    });
  }
})();
