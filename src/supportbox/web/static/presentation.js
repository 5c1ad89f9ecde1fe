// The attendee's view of a presentation: screen update parts from the
// server's WebSocket, drawn on a canvas (docs/protocol.md, "Presentations").
"use strict";

(() => {
  const root = document.getElementById("presentation");
  const status = document.getElementById("status");
  const canvas = document.getElementById("screen");
  const context = canvas.getContext("2d");
  const TYPES = { 1: "image/png", 2: "image/jpeg" };
  const END = 1;
  const KEY = 2;

  let ready = false;    // a key update has started
  let between = true;   // the next part starts an update
  let updates = 0;
  let drawing = Promise.resolve();

  function tiles(buffer, count) {
    const view = new DataView(buffer);
    const found = [];
    let offset = 7;
    for (let i = 0; i < count; i += 1) {
      const x = view.getUint16(offset);
      const y = view.getUint16(offset + 2);
      const type = TYPES[view.getUint8(offset + 8)];
      const length = view.getUint32(offset + 9);
      offset += 13;
      const bytes = new Uint8Array(buffer, offset, length);
      offset += length;
      found.push({ x, y, bitmap: createImageBitmap(new Blob([bytes], { type })) });
    }
    return found;
  }

  async function draw(buffer) {
    const view = new DataView(buffer);
    const flags = view.getUint8(0);
    const width = view.getUint16(1);
    const height = view.getUint16(3);
    const starts = between;
    between = (flags & END) !== 0;
    const key = starts && (flags & KEY) !== 0;
    if (!ready && !key) {
      return;  // joined mid-update: wait for a key update
    }
    ready = true;
    if (key && (canvas.width !== width || canvas.height !== height)) {
      canvas.width = width;
      canvas.height = height;
    }
    for (const tile of tiles(buffer, view.getUint16(5))) {
      const bitmap = await tile.bitmap;
      context.drawImage(bitmap, tile.x, tile.y);
      bitmap.close();
    }
    if (between) {
      updates += 1;
      root.dataset.updates = String(updates);
      status.textContent = "Watching the presenter's screen";
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = new URLSearchParams({ name: root.dataset.name || "" });
    const url = `${scheme}//${location.host}/presentation/ws/${root.dataset.token}?${query}`;
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    socket.addEventListener("message", (event) => {
      if (typeof event.data !== "string") {
        drawing = drawing.then(() => draw(event.data)).catch(() => { ready = false; });
        return;
      }
      const message = JSON.parse(event.data);
      if (message.type === "presentation") {
        status.textContent = "Waiting for the presenter's screen…";
      } else if (message.type === "refused") {
        status.textContent = `You cannot watch this presentation: ${message.message}`;
        root.dataset.ended = "1";
        root.dataset.refused = "1";
      } else if (message.type === "ended") {
        status.textContent = "The presentation has ended.";
        root.dataset.ended = "1";
      }
    });
    socket.addEventListener("close", () => {
      if (!root.dataset.ended) {
        status.textContent = "The connection to the presentation was lost.";
      }
    });
  }

  connect();
})();
