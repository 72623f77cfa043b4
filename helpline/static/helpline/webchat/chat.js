/* The children's web chat. Vanilla, no dependencies, no text of its own (the page holds the words).
 *
 * Privacy: the conversation token lives in sessionStorage only (gone when the tab closes or on
 * quick exit); no cookies, no localStorage. Quick exit replaces this page in the history.
 */
(function () {
  "use strict";

  var root = document.getElementById("webchat");
  if (!root) return;

  function $(id) { return document.getElementById(id); }
  var words = $("strings").dataset;
  var KEY = "helpline.webchat." + root.dataset.line;
  var MAX_BODY = parseInt(root.dataset.maxBody, 10) || 1000;

  var socket = null;
  var ready = false;      // the server answered our hello
  var leaving = false;    // quick exit under way: no reconnecting, nothing more on screen
  var refused = false;    // the line is closed to new chats
  var attempts = 0;
  var retryTimer = null;
  var pingTimer = null;
  var pending = new Map(); // client id -> body, until the server acknowledges it
  var bubbles = new Map(); // id -> <li>, so a message announced twice is shown once

  // --- storage ------------------------------------------------------------------

  function stateLoad() {
    try { return JSON.parse(sessionStorage.getItem(KEY)); } catch (e) { return null; }
  }
  function stateSave(state) { sessionStorage.setItem(KEY, JSON.stringify(state)); }

  function randomHex(byteCount) {
    var bytes = new Uint8Array(byteCount);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }
  // crypto.randomUUID needs a secure context; a UUID v4 from getRandomValues works everywhere.
  function uuid4() {
    var h = randomHex(16).split("");
    h[12] = "4";
    h[16] = "89ab"[parseInt(h[16], 16) & 3];
    h = h.join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // --- quick exit ---------------------------------------------------------------

  function quickExit() {
    leaving = true;
    try { sessionStorage.clear(); } catch (e) { /* storage disabled: nothing to clear */ }
    if (socket) { try { socket.close(); } catch (e) { /* already closing */ } }
    clearTimeout(retryTimer);
    clearInterval(pingTimer);
    $("log").textContent = "";
    $("survey-questions").textContent = "";
    $("survey").hidden = true;
    $("conversation").hidden = true;
    // replace(), not assign(): the back button must not lead to the chat.
    window.location.replace(root.dataset.exitUrl);
  }
  $("quick-exit").addEventListener("click", quickExit);
  var lastEscape = 0;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var now = Date.now();
    if (now - lastEscape < 1500) { quickExit(); } else { lastEscape = now; }
  });
  // A page restored from the back-forward cache after a quick exit must not show the conversation.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && !stateLoad() && !$("conversation").hidden) window.location.reload();
  });

  // --- what the child sees ------------------------------------------------------

  function show(section) {
    ["closed", "prechat", "conversation"].forEach(function (id) { $(id).hidden = id !== section; });
  }

  var status = null;
  function setStatus(next) {
    status = next;
    var notice = $("notice");
    var answered = $("log").querySelector(".msg.out") !== null;
    if (next === "waiting") notice.textContent = answered ? "" : words.waiting;
    else if (next === "active") notice.textContent = words.active;
    else if (next === "wrapup" || next === "closed") notice.textContent = words.ended;
  }

  function problem(text) {
    var box = $("problem");
    box.textContent = text || "";
    box.hidden = !text;
  }

  function addMessage(frame, state) {
    var existing = bubbles.get(frame.id);
    if (existing) {
      if (frame.direction === "in") markState(frame.id, "sent");
      return existing;
    }
    var item = document.createElement("li");
    item.className = "msg " + (frame.direction === "out" ? "out" : "in");
    item.dataset.id = frame.id;
    var who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = frame.direction === "out" ? words.counsellor : words.you;
    var text = document.createElement("p");
    text.className = "text";
    text.dir = "auto";
    text.textContent = frame.body;
    item.appendChild(who);
    item.appendChild(text);
    if (frame.direction !== "out") {
      var stateLine = document.createElement("span");
      stateLine.className = "state";
      item.appendChild(stateLine);
    }
    $("log").appendChild(item);
    bubbles.set(frame.id, item);
    if (frame.direction !== "out") markState(frame.id, state || "sent");
    item.scrollIntoView({ block: "end" });
    return item;
  }

  function markState(id, state) {
    var item = bubbles.get(id);
    if (!item) return;
    var stateLine = item.querySelector(".state");
    if (!stateLine) return;
    item.classList.toggle("failed", state === "failed");
    item.dataset.state = state;
    stateLine.textContent = state === "sending" ? words.sending : state === "failed" ? words.notSent : words.sent;
  }

  // --- the survey after the conversation -----------------------------------------
  // Questions come from the server in the child's language; choices are buttons. Answering is optional:
  // once answered or skipped, this tab does not ask again for the same conversation (state.surveyed).

  var surveyOpen = false;
  var surveyChosen = {}; // question id -> choice

  function surveyMark(done) {
    var state = stateLoad();
    if (!state || !!state.surveyed === done) return;
    state.surveyed = done;
    stateSave(state);
  }

  function surveyHide() {
    surveyOpen = false;
    $("survey").hidden = true;
  }

  function surveyShow(questions) {
    var state = stateLoad();
    if (surveyOpen || (state && state.surveyed) || !questions || !questions.length) return;
    surveyOpen = true;
    surveyChosen = {};
    var box = $("survey-questions");
    box.textContent = "";
    questions.forEach(function (question) {
      var group = document.createElement("fieldset");
      var legend = document.createElement("legend");
      legend.dir = "auto";
      legend.textContent = question.text;
      group.appendChild(legend);
      var row = document.createElement("div");
      row.className = "choices";
      (question.choices || []).forEach(function (choice) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "choice";
        button.dir = "auto";
        button.textContent = choice;
        button.setAttribute("aria-pressed", "false");
        button.addEventListener("click", function () {
          // A second press on the same choice takes it back.
          var undo = surveyChosen[question.id] === choice;
          if (undo) delete surveyChosen[question.id]; else surveyChosen[question.id] = choice;
          Array.prototype.forEach.call(row.children, function (other) {
            other.setAttribute("aria-pressed", String(!undo && other === button));
          });
          $("survey-send").disabled = Object.keys(surveyChosen).length === 0;
        });
        row.appendChild(button);
      });
      group.appendChild(row);
      box.appendChild(group);
    });
    $("survey-send").disabled = true;
    $("survey-ask").hidden = false;
    $("survey-thanks").hidden = true;
    $("survey").hidden = false;
    $("survey").scrollIntoView({ block: "end" });
  }

  function surveyThanks() {
    surveyMark(true);
    $("survey-ask").hidden = true;
    $("survey-thanks").hidden = false;
  }

  $("survey-send").addEventListener("click", function () {
    if (!ready || !Object.keys(surveyChosen).length) return; // offline: the "connection lost" line says so
    problem("");
    $("survey-send").disabled = true;
    send({ type: "survey_answers", answers: surveyChosen });
  });
  $("survey-skip").addEventListener("click", function () {
    surveyMark(true);
    surveyHide();
  });

  // A conversation under way (a new one after the child wrote again): any survey belongs to the last one.
  function conversationOpen(next) {
    if (next !== "waiting" && next !== "active") return;
    surveyMark(false);
    surveyHide();
  }

  // --- the connection -----------------------------------------------------------

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }

  function connect() {
    var state = stateLoad();
    if (!state || leaving || refused) return;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.dataset.wsPath);
    socket.addEventListener("open", function () {
      send({ type: "hello", token: state.token, language: state.language, age_band: state.age_band });
    });
    socket.addEventListener("message", function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      receive(frame);
    });
    socket.addEventListener("close", function () {
      socket = null;
      ready = false;
      clearInterval(pingTimer);
      if (leaving || refused) return;
      $("connection").hidden = false;
      retryTimer = setTimeout(connect, Math.min(15000, 1000 * Math.pow(2, attempts++)));
    });
  }

  function receive(frame) {
    switch (frame.type) {
      case "ready":
        ready = true;
        attempts = 0;
        $("connection").hidden = true;
        (frame.history || []).forEach(function (item) { addMessage(item); });
        setStatus(frame.status);
        conversationOpen(frame.status);
        // Messages typed while offline go now; the server stores each id once.
        pending.forEach(function (body, id) { send({ type: "message", id: id, body: body }); });
        clearInterval(pingTimer);
        // Some networks drop a silent connection after a minute.
        pingTimer = setInterval(function () { send({ type: "ping" }); }, 25000);
        break;
      case "message":
        addMessage(frame);
        // Someone has answered: "a counsellor will be with you soon" is no longer true.
        if (frame.direction === "out" && status === "waiting") $("notice").textContent = "";
        break;
      case "ack":
        pending.delete(frame.id);
        markState(frame.id, "sent");
        break;
      case "status":
        setStatus(frame.status);
        conversationOpen(frame.status);
        break;
      case "survey":
        surveyShow(frame.questions);
        break;
      case "survey_thanks":
        surveyThanks();
        break;
      case "error":
        problem(frame.message);
        if (frame.id) { pending.delete(frame.id); markState(frame.id, "failed"); }
        else if (surveyOpen) $("survey-send").disabled = Object.keys(surveyChosen).length === 0;
        break;
      case "closed":
        refused = true;
        try { sessionStorage.removeItem(KEY); } catch (e) { /* nothing stored */ }
        if (frame.message) $("closed-text").textContent = frame.message;
        show("closed");
        break;
      default:
        break;
    }
  }

  // --- the child's actions ------------------------------------------------------

  $("composer").addEventListener("submit", function (event) {
    event.preventDefault();
    var field = $("body");
    var body = field.value.trim();
    if (!body) return;
    if (body.length > MAX_BODY) { problem(words.tooLong); return; }
    problem("");
    var id = uuid4();
    pending.set(id, body);
    addMessage({ id: id, direction: "in", body: body }, "sending");
    field.value = "";
    if (ready) send({ type: "message", id: id, body: body });
  });
  $("body").addEventListener("keydown", function (event) {
    // Enter sends, Shift+Enter starts a new line (phones show their own send key anyway).
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });

  $("prechat-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var band = $("prechat-form").querySelector("input[name=age_band]:checked");
    if (!band) return;
    stateSave({ token: randomHex(16), language: root.dataset.lang, age_band: band.value });
    start();
  });
  // Changing language reloads the page in place, without adding history entries to go back through.
  Array.prototype.forEach.call(document.querySelectorAll(".languages a"), function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      window.location.replace(link.href);
    });
  });

  function start() {
    show("conversation");
    setStatus("waiting");
    $("body").focus();
    connect();
  }

  // --- on load ------------------------------------------------------------------

  var saved = stateLoad();
  if (saved && saved.token) {
    // Keep the language chosen before the chat started, even when the address lost it.
    var asked = new URLSearchParams(window.location.search).get("lang");
    if (saved.language && saved.language !== root.dataset.lang && asked !== saved.language) {
      var url = new URL(window.location.href);
      url.searchParams.set("lang", saved.language);
      window.location.replace(url.toString());
      return;
    }
    start();
  } else if (root.dataset.open === "true") {
    show("prechat");
  } else {
    show("closed");
  }
})();
