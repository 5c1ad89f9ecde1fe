// File transfer in the console (docs/protocol.md, "Sending a file to the
// customer" and "Fetching a file from the customer"). The browser hashes
// what it sends and checks what it receives with SHA-256.
"use strict";

const CHUNK = 64 * 1024;

function transferState(text, kind = "") {
  const node = $("transfer-state");
  node.textContent = text;
  node.className = `transfer-state ${kind}`;
}

function hex(buffer) {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256(data) {
  if (!window.crypto || !crypto.subtle) {
    throw new Error("file transfer needs the console to be opened over HTTPS");
  }
  return hex(await crypto.subtle.digest("SHA-256", data));
}

function basename(path) {
  return path.split(/[\\/]/).filter(Boolean).pop() || "download";
}

async function sendFile(file, path, overwrite) {
  const lsid = state.current;
  transferState(`Reading ${file.name}…`, "wait");
  const body = new Uint8Array(await file.arrayBuffer());
  const digest = await sha256(body);
  transferState(`Asking the customer to accept ${path}…`, "wait");
  const answer = await send("file_send", { lsid, path, size: body.length, overwrite }, { quiet: true });
  const next = listen(answer.channel);
  try {
    const first = await next();
    if (first.type !== "file_accepted") throw new Error(first.reason || "the transfer stopped");
    for (let chunk = 0, start = 0; start < body.length; chunk += 1, start += CHUNK) {
      await drained();
      sendData(answer.channel, chunk, body.subarray(start, start + CHUNK));
      transferState(`Sending ${path}: ${Math.floor((start * 100) / body.length)} %`, "wait");
    }
    await send("file_end", { channel: answer.channel, sha256: digest }, { quiet: true });
    const last = await next();
    if (last.type !== "file_done") throw new Error(last.reason || "the transfer stopped");
    transferState(`Sent ${path} (${bytes(body.length)}); the customer checked its SHA-256`, "ok");
  } finally {
    dropChannel(answer.channel);
  }
}

async function fetchFile(path) {
  const lsid = state.current;
  transferState(`Asking the customer for ${path}…`, "wait");
  const answer = await send("file_fetch", { lsid, path }, { quiet: true });
  const next = listen(answer.channel);
  const parts = [];
  let size = 0;
  let received = 0;
  try {
    for (;;) {
      const message = await next();
      if (message.type === "file_accepted") size = message.size;
      else if (message.type === "data") {
        parts.push(message.bytes);
        received += message.bytes.length;
        transferState(`Fetching ${path}: ${size ? Math.floor((received * 100) / size) : 0} %`, "wait");
      } else if (message.type === "file_end") {
        const blob = new Blob(parts);
        const digest = await sha256(await blob.arrayBuffer());
        if (digest !== message.sha256 || received !== size) {
          throw new Error("the file arrived damaged (its SHA-256 does not match)");
        }
        save(blob, basename(path));
        transferState(`Fetched ${path} (${bytes(received)}), SHA-256 checked`, "ok");
        return;
      } else throw new Error(message.reason || "the transfer stopped");
    }
  } finally {
    dropChannel(answer.channel);
  }
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: name, hidden: "" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function failed(what) {
  return (error) => transferState(`${what}: ${error.message}`, "bad");
}

$("send-file").addEventListener("click", () => {
  $("send-form").reset();
  $("send-dialog").showModal();
});
$("send-form").elements.file.addEventListener("change", (e) => {
  const file = e.target.files[0];
  if (file) $("send-form").elements.path.value = file.name;
});
$("send-dialog").addEventListener("close", () => {
  const form = $("send-form");
  const file = form.elements.file.files[0];
  const path = form.elements.path.value.trim();
  if ($("send-dialog").returnValue !== "send" || !file || !path) return;
  sendFile(file, path, form.elements.overwrite.checked).catch(failed(`Not sent: ${path}`));
});
$("fetch-file").addEventListener("click", () => {
  $("fetch-form").reset();
  $("fetch-dialog").showModal();
});
$("fetch-dialog").addEventListener("close", () => {
  const path = $("fetch-form").elements.path.value.trim();
  if ($("fetch-dialog").returnValue !== "fetch" || !path) return;
  fetchFile(path).catch(failed(`Not fetched: ${path}`));
});
