// The representative console. It speaks the live protocol (docs/protocol.md)
// on /live, logged in by the web session cookie; the side panel's details
// and custom fields come from /console/api with the CSRF header.
"use strict";

const root = document.getElementById("console");
const csrf = root.dataset.csrf;
const me = Number(root.dataset.user);
const state = {
  waiting: [], mine: [], details: {}, events: {}, seen: {}, offers: [],
  current: null, detail: null, wanted: null, socket: null, pending: {}, counter: 0,
};
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// A quiet call leaves telling the user to its caller.
async function call(method, path, body, { quiet = false } = {}) {
  const response = await fetch(path, {
    method,
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (response.redirected) { location.href = response.url; throw new Error("logged out"); }
  const answer = await response.json().catch(() => ({ error: "the server did not answer" }));
  if (!response.ok) {
    if (!quiet) alert(answer.error || "That did not work.");
    throw new Error(answer.error);
  }
  return answer.result;
}

// One protocol command; resolves with the "ok" answer, rejects on "error".
// A quiet command leaves telling the user to its caller.
function send(type, fields = {}, { quiet = false } = {}) {
  const socket = state.socket;
  if (!socket || socket.readyState !== WebSocket.OPEN) {
    if (!quiet) alert("The console is offline; try again in a moment.");
    return Promise.reject(new Error("the console is offline"));
  }
  const id = `c${Date.now().toString(36)}-${++state.counter}`;
  socket.send(JSON.stringify({ type, id, ...fields }));
  return new Promise((resolve, reject) => { state.pending[id] = { resolve, reject, quiet }; });
}

// Channels: a shell or a file transfer, numbered by the server. Messages of
// a channel not yet known (they may overtake the "ok" that names it) wait.
const channels = { open: {}, early: {} };

function onChannel(number, handler) {
  channels.open[number] = handler;
  const early = channels.early[number] || [];
  delete channels.early[number];
  for (const message of early) handler(message);
}

function dropChannel(number) {
  delete channels.open[number];
}

function toChannel(number, message) {
  const handler = channels.open[number];
  if (handler) { handler(message); return; }
  const waiting = Object.keys(channels.early);
  if (waiting.length > 16) delete channels.early[waiting[0]];
  (channels.early[number] = channels.early[number] || []).push(message);
}

// The messages of one channel, one at a time: `await next()`.
function listen(number) {
  const queue = [];
  const waiting = [];
  onChannel(number, (m) => (waiting.length ? waiting.shift()(m) : queue.push(m)));
  return () => (queue.length ? Promise.resolve(queue.shift())
    : new Promise((resolve) => waiting.push(resolve)));
}

// One binary frame: channel, chunk number, 8 reserved bytes, then data.
function sendData(number, chunk, bytes) {
  const frame = new Uint8Array(16 + bytes.length);
  const header = new DataView(frame.buffer);
  header.setUint32(0, number);
  header.setUint32(4, chunk >>> 0);
  frame.set(bytes, 16);
  state.socket.send(frame);
}

// Resolves once the socket has sent most of what it buffered.
async function drained(limit = 4 * 1024 * 1024) {
  while (state.socket && state.socket.bufferedAmount > limit) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function bytes(size) {
  if (size === undefined || size === null) return "size unknown";
  if (size < 1024) return `${size} bytes`;
  const units = ["KB", "MB", "GB"];
  let value = size / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function waited(since) {
  const minutes = Math.floor((Date.now() / 1000 - since) / 60);
  return minutes < 1 ? "just now" : `${minutes} min`;
}

// queues

function queueItem(item) {
  return el("div", { class: "queue-item", "data-lsid": item.lsid },
    el("div", { class: "name" }, item.customer || "Customer"),
    el("div", { class: "meta" }, [item.company, item.issue].filter(Boolean).join(" · ") || item.details || ""),
    el("div", { class: "meta" }, `${item.queue_name} · waiting ${waited(item.waiting_since)}`),
    el("button", { class: "small primary", onclick: () => accept(item.lsid) }, "Accept"));
}

function renderQueues() {
  const groups = { personal: [], team: [], general: [] };
  for (const item of state.waiting) {
    if (item.queue === `rep:${me}`) groups.personal.push(item);
    else if (item.queue.startsWith("team:")) groups.team.push(item);
    else groups.general.push(item);
  }
  for (const [name, items] of Object.entries(groups)) {
    $(name).replaceChildren(...(items.length ? items.map(queueItem)
      : [el("div", { class: "queue-empty" }, "Nobody waiting")]));
    $(`${name}-count`).textContent = items.length;
  }
  const offers = state.offers.map((offer) => el("div", { class: "queue-item", "data-lsid": offer.lsid },
    el("div", { class: "name" }, `Invitation from ${offer.by}`),
    el("button", { class: "small primary", onclick: () => join(offer.lsid) }, "Join")));
  const mine = state.mine.map((lsid) => {
    const detail = state.details[lsid] || { customer: null, queue_name: "" };
    const customer = detail.customer || { name: "Customer", info: {} };
    return el("div", {
      class: `queue-item mine${lsid === state.current ? " on" : ""}`,
      "data-lsid": lsid, onclick: () => open(lsid),
    },
      el("div", { class: "name" }, customer.name),
      el("div", { class: "meta" }, [customer.info.company, detail.queue_name].filter(Boolean).join(" · ")));
  });
  $("mine").replaceChildren(...(mine.length || offers.length ? [...offers, ...mine]
    : [el("div", { class: "queue-empty" }, "None")]));
  $("mine-count").textContent = state.mine.length;
}

async function accept(lsid) {
  state.wanted = lsid;
  await send("accept", { lsid });
}

async function join(lsid) {
  state.offers = state.offers.filter((o) => o.lsid !== lsid);
  state.wanted = lsid;
  await send("join", { lsid });
}

// the open session

async function open(lsid) {
  state.current = lsid;
  state.detail = await call("GET", `/console/api/sessions/${lsid}`);
  state.details[lsid] = state.detail;
  $("empty").hidden = true;
  $("session").hidden = false;
  renderQueues();
  renderSession();
  showTools();
  document.dispatchEvent(new CustomEvent("session-shown", { detail: { lsid } }));
  $("chat-input").focus();
}

// Clears the session pane: nothing of the closed session stays on screen.
function close() {
  const lsid = state.current;
  state.current = null;
  state.detail = null;
  $("empty").hidden = false;
  $("session").hidden = true;
  $("session-title").textContent = "";
  $("chat").replaceChildren();
  $("chat-input").value = "";
  $("transfer-state").textContent = "";
  $("details").replaceChildren(el("p", { class: "muted" }, "Customer details appear here."));
  renderQueues();
  showTools();
  document.dispatchEvent(new CustomEvent("session-closed", { detail: { lsid } }));
}

function line(event) {
  const who = event.performed_by ? event.performed_by.name : "";
  const whom = event.destination ? event.destination.name : "";
  const data = event.data || {};
  switch (event.event_type) {
    case "Chat Message": {
      const mine = state.detail && event.performed_by && event.performed_by.gsnumber === state.detail.my_gs;
      return el("div", { class: `bubble${mine ? " me" : ""}` }, el("span", { class: "who" }, who), event.body);
    }
    case "Session Note Added": return el("div", { class: "bubble system" }, `Note by ${who}: ${event.body}`);
    case "Conference Member Added": return el("div", { class: "bubble system" }, `${whom} joined`);
    case "Conference Member Departed": return el("div", { class: "bubble system" }, `${whom} left`);
    case "Conference Member State Changed": return el("div", { class: "bubble system" }, `${who} ${data.state}`);
    case "Session Transferred to Queue": return el("div", { class: "bubble system" }, `Waiting in ${data.owner}`);
    case "External Key": return el("div", { class: "bubble system" }, `External key set to ${data.external_key}`);
    case "Session End": return el("div", { class: "bubble system" }, "The session ended");
    case "Command Shell Session Started": return el("div", { class: "bubble system" }, `${who} opened a command shell`);
    case "File Upload": return el("div", { class: "bubble system" }, `${who} sent ${event.filename} (${bytes(event.filesize)})`);
    case "File Download": return el("div", { class: "bubble system" }, `${who} fetched ${event.filename} (${bytes(event.filesize)})`);
    case "File Upload Failed":
      return el("div", { class: "bubble system bad" }, `Sending ${event.filename} failed: ${data.reason}`);
    case "File Download Failed":
      return el("div", { class: "bubble system bad" }, `Fetching ${event.filename} failed: ${data.reason}`);
    default: return null;
  }
}

function renderSession() {
  const detail = state.detail;
  if (!detail) return;
  $("session-title").textContent = detail.customer ? detail.customer.name : "Session";
  $("chat").replaceChildren(...(state.events[detail.lsid] || []).map(line).filter(Boolean));
  $("chat").scrollTop = $("chat").scrollHeight;
  $("transfer-to").replaceChildren(
    el("option", { value: "general" }, "General queue"),
    ...detail.teams.map((t) => el("option", { value: t.queue }, `Team: ${t.name}`)),
    ...detail.colleagues.map((r) => el("option", { value: `rep:${r.id}` }, `Rep: ${r.name}${r.online ? "" : " (away)"}`)));
  $("invite-who").replaceChildren(...detail.colleagues.map((r) =>
    el("option", { value: r.username }, `${r.name}${r.online ? "" : " (away)"}`)));
  renderDetails();
}

function fact(name, value) {
  return value ? [el("dt", {}, name), el("dd", {}, value)] : [];
}

function renderDetails() {
  const detail = state.detail;
  const customer = detail.customer || { info: {} };
  const info = customer.info || {};
  const facts = el("dl", { class: "facts" },
    ...fact("Name", customer.name), ...fact("Company", info.company), ...fact("Issue", info.issue),
    ...fact("Details", info.details), ...fact("Computer", customer.hostname), ...fact("System", customer.os),
    ...fact("Public IP", customer.public_ip), ...fact("Private IP", customer.private_ip),
    ...fact("Connection", customer.connected ? "connected" : "disconnected"));
  const fields = el("form", { class: "stack", id: "custom-form" },
    el("label", {}, "External key", el("input", { name: "external_key", value: detail.external_key, maxlength: "1024" })),
    ...detail.fields.map((f) => el("label", {}, f.name, el("input", { name: f.code, value: detail.custom[f.code] || "", maxlength: "1024" }))),
    el("div", {}, el("button", { type: "submit", class: "small" }, "Save")));
  fields.addEventListener("submit", async (e) => {
    e.preventDefault();
    const values = Object.fromEntries(new FormData(fields).entries());
    const key = values.external_key;
    delete values.external_key;
    if (key !== detail.external_key) await send("external_key", { lsid: detail.lsid, external_key: key });
    if (Object.keys(values).length) await call("POST", `/console/api/sessions/${detail.lsid}/custom`, { values });
  });
  const notes = el("form", { class: "stack", id: "note-form" },
    el("textarea", { name: "text", rows: "3", maxlength: "10000", placeholder: "Only representatives see notes" }),
    el("div", {}, el("button", { type: "submit", class: "small" }, "Add note")));
  notes.addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = notes.elements.text.value;
    if (!text.trim()) return;
    await send("note", { lsid: detail.lsid, body: text });
    notes.elements.text.value = "";
  });
  const system = detail.system_information.map((category) => el("details", {},
    el("summary", {}, category.name),
    el("table", {}, el("tr", {}, ...category.fields.map((f) => el("th", {}, f))),
      ...(category.rows || []).map((row) => el("tr", {}, ...row.map((v) => el("td", {}, String(v))))))));
  $("details").replaceChildren(
    el("section", {}, el("h3", {}, "Customer"), facts),
    el("section", {}, el("h3", {}, "Session fields"), fields),
    el("section", {}, el("h3", {}, "Notes"), notes),
    el("section", {}, el("h3", {}, "System information"),
      ...(system.length ? system : [el("p", { class: "muted small" }, "Not reported yet.")])));
}

function addEvent(lsid, event) {
  const seen = state.seen[lsid] || 0;
  if (event.seq <= seen) return;
  state.seen[lsid] = event.seq;
  (state.events[lsid] = state.events[lsid] || []).push(event);
  if (lsid !== state.current) return;
  const node = line(event);
  if (node) { $("chat").append(node); $("chat").scrollTop = $("chat").scrollHeight; }
  if (["External Key", "System Information Retrieved", "Conference Member Added",
       "Conference Member Departed", "Conference Member State Changed"].includes(event.event_type)) {
    refreshDetail(lsid);
  }
}

// Quiet: a session that has just left this representative (ended,
// transferred) answers 403, and "left" closes it anyway.
async function refreshDetail(lsid) {
  if (!state.mine.includes(lsid)) return;
  try {
    const detail = await call("GET", `/console/api/sessions/${lsid}`, undefined, { quiet: true });
    if (!state.mine.includes(lsid)) return;
    state.details[lsid] = detail;
    if (state.current === lsid) { state.detail = detail; renderDetails(); }
  } catch (e) { /* the session may have left this rep */ }
}

// live feed

function answered(data) {
  const pending = state.pending[data.re];
  if (!pending) return false;
  delete state.pending[data.re];
  if (data.type === "ok") pending.resolve(data);
  else {
    if (!pending.quiet) alert(data.message || "That did not work.");
    pending.reject(new Error(data.message || "that did not work"));
  }
  return true;
}

async function joined(lsid) {
  if (!state.mine.includes(lsid)) state.mine.push(lsid);
  await refreshDetail(lsid);
  if (!state.mine.includes(lsid)) return;
  renderQueues();
  if (state.wanted === lsid || !state.current) { state.wanted = null; await open(lsid); }
}

function left(lsid) {
  state.mine = state.mine.filter((m) => m !== lsid);
  delete state.details[lsid];
  forgetShell(lsid);
  if (state.current === lsid) close();
  renderQueues();
}

function askSurvey(lsid, questions) {
  state.surveyFor = lsid;
  $("survey").replaceChildren(...questions.map((q) => {
    if (q.type === "radio" || q.type === "select") {
      return el("label", {}, q.label, el("select", { name: q.name },
        el("option", { value: "" }, "—"), ...q.options.map((o) => el("option", { value: o }, o))));
    }
    const input = q.type === "textarea" ? el("textarea", { name: q.name, rows: "3" }) : el("input", { name: q.name });
    return el("label", {}, q.label, input);
  }));
  if (questions.length) $("end-dialog").showModal();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/live`);
  socket.binaryType = "arraybuffer";
  state.socket = socket;
  let ping = null;
  socket.onopen = () => {
    socket.send(JSON.stringify({
      type: "hello", v: 1, role: "representative", web_session: true,
      client: { hostname: "web console", os: navigator.userAgent.slice(0, 200) },
      sessions: Object.fromEntries(state.mine.map((lsid) => [lsid, state.seen[lsid] || 0])),
    }));
  };
  socket.onmessage = (message) => {
    if (message.data instanceof ArrayBuffer) {
      const number = new DataView(message.data).getUint32(0);
      toChannel(number, { type: "data", bytes: new Uint8Array(message.data, 16) });
      return;
    }
    const data = JSON.parse(message.data);
    if (data.re && answered(data)) return;
    if (typeof data.channel === "number") { toChannel(data.channel, data); return; }
    switch (data.type) {
      case "welcome":
        $("live-dot").classList.add("live");
        $("live-text").textContent = "Online";
        ping = setInterval(() => socket.send(JSON.stringify({ type: "ping" })), (data.heartbeat || 20) * 1000);
        break;
      case "queues": state.waiting = data.waiting; renderQueues(); break;
      case "joined": joined(data.lsid); break;
      case "left": left(data.lsid); break;
      case "event": addEvent(data.lsid, data.event); break;
      case "survey": if (data.survey === "rep") askSurvey(data.lsid, data.questions); break;
      case "offer":
        if (data.reason === "invitation") { state.offers.push(data); renderQueues(); }
        else document.querySelector(`.queue-item[data-lsid="${data.lsid}"]`)?.classList.add("on");
        break;
      case "error": if (data.code === "auth_failed") location.href = "/login?next=/console"; break;
      default: break;
    }
  };
  socket.onclose = () => {
    clearInterval(ping);
    for (const pending of Object.values(state.pending)) pending.reject(new Error("the console went offline"));
    state.pending = {};
    // The server closes a dropped connection's shells and transfers.
    for (const number of Object.keys(channels.open)) {
      toChannel(Number(number), { type: "lost", reason: "the console lost its connection" });
    }
    $("live-dot").classList.remove("live");
    $("live-text").textContent = "Offline, reconnecting…";
    setTimeout(connect, 2000);
  };
}

// commands of the open session

$("chat-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const input = $("chat-input");
  const body = input.value;
  if (!body.trim() || !state.current) return;
  input.value = "";
  await send("chat", { lsid: state.current, body });
});
$("transfer").addEventListener("click", () =>
  send("transfer", { lsid: state.current, to: $("transfer-to").value }));
$("invite").addEventListener("click", () =>
  send("invite", { lsid: state.current, username: $("invite-who").value }));
$("leave").addEventListener("click", () => send("leave", { lsid: state.current }));
$("end").addEventListener("click", () => {
  if (confirm("End this session for everyone?")) send("end", { lsid: state.current });
});
$("end-dialog").addEventListener("close", async () => {
  if ($("end-dialog").returnValue !== "end" || !state.surveyFor) return;
  const answers = Object.fromEntries([...new FormData($("end-form")).entries()].filter(([, v]) => v.trim()));
  const lsid = state.surveyFor;
  state.surveyFor = null;
  if (Object.keys(answers).length) await send("survey", { lsid, answers });
});

connect();
