/*
 * The browser chat of supportbox: a customer client that installs nothing.
 * It speaks the live protocol, version 1 (docs/protocol.md), over
 * ws(s)://<this host>/live. The join token arrives in the URL fragment
 * (#token=...); each welcome brings the token for the next connection,
 * kept in this tab's sessionStorage so that a reload or a dropped
 * network resumes the same session.
 */
(function () {
  "use strict";

  var root = document.getElementById("chat");
  var lsid = root.getAttribute("data-lsid");
  var store = "supportbox.chat." + lsid;
  var $ = function (id) { return document.getElementById(id); };

  var ws = null;
  var me = 0;
  var lastSeq = 0;
  var counter = 0;
  var ended = false;
  var helped = false;
  var finished = false;
  var retry = 1000;
  var pinger = null;

  function token() { return sessionStorage.getItem(store) || ""; }
  function keepToken(value) { sessionStorage.setItem(store, value); }

  var fragment = /[#&]token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (fragment) {
    keepToken(fragment[1]);
    history.replaceState(null, "", location.pathname + location.search);
  }

  function status(text, kind) {
    var el = $("status");
    el.textContent = text;
    el.className = "status" + (kind ? " " + kind : "");
  }

  function line(kind, who, text) {
    var item = document.createElement("li");
    item.className = kind;
    if (who) {
      var name = document.createElement("span");
      name.className = "who";
      name.textContent = who;
      item.appendChild(name);
    }
    var body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    item.appendChild(body);
    var log = $("log");
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function send(message) {
    counter += 1;
    message.id = "web-" + counter;
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify(message));
    }
    return message.id;
  }

  function enable(on) {
    $("message").disabled = !on;
    $("send").disabled = !on;
    $("end").disabled = !on;
  }

  function onEvent(event) {
    if (event.seq > lastSeq) { lastSeq = event.seq; }
    var by = event.performed_by || {};
    var to = event.destination || {};
    switch (event.event_type) {
      case "Session Start":
        line("system", "", "Your request was received. A representative will be with you shortly.");
        break;
      case "Chat Message":
        line(by.gsnumber === me ? "mine" : "theirs", by.name || "Support", event.body || "");
        break;
      case "Conference Member Added":
        if (to.type === "representative" || by.type === "representative") {
          helped = true;
          line("system", "", (to.name || by.name) + " joined the chat.");
          status("You are chatting with " + (to.name || by.name) + ".", "live");
        }
        break;
      case "Conference Member Departed":
        if (by.type === "representative" || to.type === "representative") {
          line("system", "", (to.name || by.name) + " left the chat.");
        }
        break;
      case "Session Transferred to Queue":
        // The first one only places a new session in its queue.
        if (!helped) { break; }
        line("system", "", "You were transferred; please wait for the next representative.");
        status("Waiting for a representative…");
        break;
      case "Session End":
        ended = true;
        enable(false);
        line("system", "", "The session has ended.");
        status("The session has ended.");
        break;
      default:
        break;
    }
  }

  function field(question) {
    var wrap = document.createElement("div");
    var label = document.createElement("label");
    label.textContent = question.label;
    var name = question.name;
    var options = question.options || [];
    wrap.appendChild(label);
    if (question.type === "radio" || question.type === "checkbox") {
      var choices = document.createElement("div");
      choices.className = "choices";
      options.forEach(function (option) {
        var choice = document.createElement("label");
        var input = document.createElement("input");
        input.type = question.type;
        input.name = name;
        input.value = String(option);
        choice.appendChild(input);
        choice.appendChild(document.createTextNode(" " + option));
        choices.appendChild(choice);
      });
      wrap.appendChild(choices);
      return wrap;
    }
    var control;
    if (question.type === "select") {
      control = document.createElement("select");
      options.forEach(function (option) {
        var item = document.createElement("option");
        item.value = item.textContent = String(option);
        control.appendChild(item);
      });
    } else {
      control = document.createElement(question.type === "textarea" ? "textarea" : "input");
    }
    control.name = name;
    control.id = label.htmlFor = "q-" + name;
    wrap.appendChild(control);
    return wrap;
  }

  function showSurvey(questions) {
    var box = $("questions");
    box.textContent = "";
    questions.forEach(function (question) { box.appendChild(field(question)); });
    $("survey").hidden = questions.length === 0;
    if (questions.length === 0) { finish(); }
  }

  function finish() {
    finished = true;
    $("survey").hidden = true;
    $("thanks").hidden = false;
    sessionStorage.removeItem(store);
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify({ type: "bye" })); }
  }

  function onMessage(frame) {
    var message;
    try { message = JSON.parse(frame.data); } catch (err) { return; }
    switch (message.type) {
      case "welcome":
        me = message.gsnumber;
        retry = 1000;
        keepToken(message.resume_token);
        clearInterval(pinger);
        pinger = setInterval(function () { send({ type: "ping" }); },
                             (message.heartbeat || 20) * 1000);
        if (message.status === "ended") {
          ended = true;
          status("The session has ended.");
        } else {
          enable(true);
          status(message.status === "waiting"
            ? "Waiting for a representative…" : "Connected.", "live");
        }
        break;
      case "event":
        onEvent(message.event);
        break;
      case "survey":
        if (message.survey === "customer") { showSurvey(message.questions || []); }
        break;
      case "error":
        if (message.code === "auth_failed") {
          finished = true;
          enable(false);
          status("This chat link is no longer valid. Please start a new session.", "problem");
        } else if (message.re) {
          line("system", "", "Not sent: " + message.message);
        }
        break;
      default:
        break;
    }
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + "/live");
    ws.onopen = function () {
      ws.send(JSON.stringify({
        type: "hello", v: 1, role: "customer", lsid: lsid,
        token: token(), last_seq: lastSeq,
        client: { hostname: "web browser", os: navigator.platform || "Unknown" }
      }));
    };
    ws.onmessage = onMessage;
    ws.onclose = function () {
      clearInterval(pinger);
      enable(false);
      if (finished || ended) { return; }
      status("Connection lost; reconnecting…", "problem");
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 15000);
    };
  }

  $("compose").addEventListener("submit", function (e) {
    e.preventDefault();
    var input = $("message");
    var body = input.value.trim();
    if (!body) { return; }
    send({ type: "chat", body: body });
    input.value = "";
  });

  $("end").addEventListener("click", function () {
    send({ type: "leave" });
  });

  $("survey").addEventListener("submit", function (e) {
    e.preventDefault();
    var answers = {};
    var data = new FormData($("survey"));
    data.forEach(function (value, name) {
      answers[name] = answers[name] ? answers[name] + "," + value : String(value);
    });
    send({ type: "survey", answers: answers });
    finish();
  });

  if (!token()) {
    status("This chat link is incomplete. Please start a new session.", "problem");
    return;
  }
  connect();
})();
