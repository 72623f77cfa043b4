/* The consoles' live part (counsellor and supervisor pages).
 *
 * One WebSocket to /ws/console/. Events carry ids only ({"type": "contact.message",
 * "contact_id": ...}); each one makes htmx re-fetch the fragments that show what
 * changed (elements with data-refresh-on), and every (re)connect re-fetches all of
 * them: the database is the truth, the socket only says "look again".
 *
 * No inline script, no eval: it runs under the strict Content-Security-Policy.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-console]");
  if (!root || !window.htmx) {
    return;
  }
  var staffId = String(root.dataset.staffId || "");
  var connection = document.getElementById("console-connection");
  var announcer = document.getElementById("console-announce");
  var socket = null;
  var attempts = 0;
  var stopped = false;
  var timers = new Map();
  var lastInbound = {};
  var lastUnread = null;

  function text(name) {
    return root.dataset["text" + name] || "";
  }

  // --- htmx settings for these pages -------------------------------------------------------
  // Show the server's refusal (409) and validation (422) fragments instead of dropping them.
  htmx.config.responseHandling.unshift({ code: "409", swap: true }, { code: "422", swap: true });
  // Never keep conversation content in localStorage (htmx's history cache); reload instead.
  htmx.config.historyCacheSize = 0;
  htmx.config.refreshOnHistoryMiss = true;
  htmx.config.historyRestoreAsHxRequest = false;

  // --- connection state ---------------------------------------------------------------------
  var banner = document.getElementById("connection-banner");
  var everLive = false;

  function isDown() {
    return root.dataset.socketState !== "live";
  }

  function setState(state) {
    root.dataset.socketState = state;
    if (state === "live") {
      everLive = true;
    }
    if (connection) {
      connection.dataset.state = state;
      connection.textContent =
        state === "live" ? text("Live") : state === "ended" ? text("Ended") : text("Reconnecting");
    }
    if (banner) {
      // Not while the first connection is still being made: only once something was lost.
      banner.hidden = state === "live" || (state === "connecting" && !everLive);
      var words = banner.querySelector("[data-banner-text]");
      if (words) {
        words.textContent = state === "ended" ? text("Ended") : text("Banner");
      }
      var again = banner.querySelector("[data-reconnect]");
      if (again) {
        again.hidden = state === "ended";
      }
    }
    applyConnectionState();
  }

  // Sending and taking need the connection: without it the counsellor would not see what follows.
  function applyConnectionState() {
    var down = isDown();
    document.querySelectorAll("[data-needs-connection]").forEach(function (control) {
      control.disabled = down;
      if (down) {
        control.setAttribute("aria-describedby", "connection-banner");
      } else {
        control.removeAttribute("aria-describedby");
      }
    });
  }

  // --- unsent replies ---------------------------------------------------------------------------
  function unsent(show, reason) {
    var notice = document.getElementById("reply-unsent");
    if (!notice) {
      return;
    }
    notice.hidden = !show;
    var why = notice.querySelector("[data-unsent-reason]");
    if (why) {
      why.textContent = reason || "";
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.dataset.socketPath);
    socket.addEventListener("open", function () {
      attempts = 0;
      setState("live");
      var notice = document.getElementById("reply-unsent");
      if (notice && !notice.hidden) {
        unsent(true, text("Back"));
      }
      watchCurrent();
      // Whatever happened while we were not listening is in the database.
      refreshAll();
    });
    socket.addEventListener("message", function (message) {
      var event;
      try {
        event = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      onEvent(event);
    });
    socket.addEventListener("close", function (event) {
      socket = null;
      if (event.code === 4401 || event.code === 4403) {
        stopped = true;
        setState("ended");
        return;
      }
      if (stopped) {
        return;
      }
      setState("reconnecting");
      // Exponential backoff with jitter, at most 30 s, so a restarted server is not stormed.
      var delay = Math.min(30000, 1000 * Math.pow(2, attempts)) * (0.5 + Math.random() / 2);
      attempts += 1;
      retryTimer = window.setTimeout(connect, delay);
    });
  }

  // The person (or the browser, when the network comes back) need not wait for the backoff.
  var retryTimer = null;
  function reconnectNow() {
    if (socket || stopped) {
      return;
    }
    window.clearTimeout(retryTimer);
    connect();
  }
  window.addEventListener("online", reconnectNow);
  document.addEventListener("click", function (evt) {
    if (evt.target.closest("[data-reconnect]")) {
      reconnectNow();
    }
  });

  function watchCurrent() {
    if (!socket || socket.readyState !== WebSocket.OPEN || !root.classList.contains("supervision")) {
      return;
    }
    var pane = document.querySelector("[data-watch]");
    socket.send(JSON.stringify({ type: "watch", contact_id: pane ? pane.dataset.watch : null }));
  }

  // --- events -> fragments ------------------------------------------------------------------
  function matches(element, event) {
    var contactId = element.dataset.contactId;
    if (contactId && event.contact_id && contactId !== String(event.contact_id)) {
      return false;
    }
    return (element.dataset.refreshOn || "").split(/\s+/).some(function (token) {
      if (token === event.type) {
        return true;
      }
      return token === event.type + ":self" && String(event.staff_id) === staffId;
    });
  }

  function onEvent(event) {
    if (!event || typeof event.type !== "string" || event.type === "watching" || event.type === "error") {
      return;
    }
    if (event.type === "risk.confirmed" && root.classList.contains("supervision")) {
      announce(text("RiskAlert"), true);
    }
    document.querySelectorAll("[data-refresh-on]").forEach(function (element) {
      if (matches(element, event)) {
        refresh(element);
      }
    });
  }

  function refreshAll() {
    document.querySelectorAll("[data-refresh-on]").forEach(refresh);
  }

  function refresh(element) {
    if (!document.body.contains(element)) {
      return;
    }
    // Do not pull a form from under someone who is choosing in it: refresh when they leave it.
    var active = document.activeElement;
    if (active && element.contains(active) && active.matches("input, select, textarea")) {
      element.dataset.refreshPending = "1";
      return;
    }
    // Several events in a burst make one request per fragment.
    var key = element.id || element;
    window.clearTimeout(timers.get(key));
    timers.set(
      key,
      window.setTimeout(function () {
        timers.delete(key);
        var current = element.id ? document.getElementById(element.id) : element;
        if (current && document.body.contains(current)) {
          htmx.trigger(current, "console:refresh");
        }
      }, 120)
    );
  }

  document.addEventListener("focusout", function (event) {
    var element = event.target.closest("[data-refresh-pending]");
    if (element && !element.contains(event.relatedTarget)) {
      delete element.dataset.refreshPending;
      refresh(element);
    }
  });

  // --- htmx hooks -----------------------------------------------------------------------------
  document.body.addEventListener("htmx:beforeRequest", function (evt) {
    var config = evt.detail.requestConfig || {};
    var box = document.getElementById("reply-body");
    if (evt.detail.elt && evt.detail.elt.id === "reply" && isDown()) {
      // Keep the text where it is and say so; it goes when the counsellor retries.
      evt.preventDefault();
      unsent(true, text("NoConnection"));
      return;
    }
    if (config.verb && config.verb !== "get" && evt.detail.elt !== box) {
      var alert = document.getElementById("console-alert");
      if (alert) {
        alert.textContent = "";
      }
    }
    // Leaving the open conversation: keep what was typed as a draft first.
    if (box && evt.detail.elt !== box && evt.detail.target && evt.detail.target.id === "pane" && box.value) {
      htmx.trigger(box, "console:flush");
    }
  });

  function requestFailed(evt) {
    var elt = evt.detail.elt;
    if (elt && elt.id === "reply") {
      unsent(true, text("NotSent"));
    } else if (elt && elt.id === "reply-body") {
      var status = document.getElementById("draft-status");
      if (status) {
        status.textContent = text("DraftNotSaved");
      }
    }
  }
  document.body.addEventListener("htmx:sendError", requestFailed);
  document.body.addEventListener("htmx:afterRequest", function (evt) {
    var xhr = evt.detail.xhr;
    if (evt.detail.elt && evt.detail.elt.id === "reply" && xhr && xhr.status >= 500) {
      requestFailed(evt);
    }
    refreshAnswered(evt);
  });

  // A fragment whose refresh did not arrive (the network dropped again, the server busy with
  // everyone reconnecting at once) is fetched again with a backoff, so what happened while we were
  // away does not wait for the next event to be shown.
  var refreshRetries = new Map();
  function refreshAnswered(evt) {
    var elt = evt.detail.elt;
    var xhr = evt.detail.xhr;
    if (!elt || !elt.dataset || !elt.dataset.refreshOn) {
      return;
    }
    var key = elt.id || elt;
    var entry = refreshRetries.get(key) || { tries: 0, timer: null };
    if (xhr && xhr.status > 0 && xhr.status < 500) {
      refreshRetries.delete(key);  // answered (a 404 "gone" included): nothing to retry
      return;
    }
    if (entry.timer || stopped || entry.tries >= 6) {
      return;
    }
    entry.tries += 1;
    var delay = Math.min(30000, 1000 * Math.pow(2, entry.tries - 1)) * (0.5 + Math.random() / 2);
    entry.timer = window.setTimeout(function () {
      entry.timer = null;
      var current = elt.id ? document.getElementById(elt.id) : elt;
      if (current && socket && socket.readyState === WebSocket.OPEN) {
        refresh(current);
      }
    }, delay);
    refreshRetries.set(key, entry);
  }

  document.body.addEventListener("htmx:beforeSwap", function (evt) {
    var xhr = evt.detail.xhr;
    // A redirect to the login or code page: the session has ended.
    if (xhr && /\/(login|2fa)\//.test(xhr.responseURL || "")) {
      evt.detail.shouldSwap = false;
      stopped = true;
      if (socket) {
        socket.close();
      }
      setState("ended");
      return;
    }
    // The conversation is no longer ours to see (transferred, reassigned, closed).
    if (xhr && xhr.status === 404) {
      var pane = evt.detail.target && evt.detail.target.closest("[data-gone-pane]");
      if (pane) {
        evt.detail.shouldSwap = false;
        evt.detail.isError = false;
        var notice = document.createElement("p");
        notice.className = "pane-empty hint";
        notice.textContent = text("Gone");
        pane.replaceChildren(notice);
        watchCurrent();
      }
    }
  });

  document.body.addEventListener("htmx:afterSettle", function (evt) {
    var target = evt.detail.target;
    applyConnectionState();
    tick();
    scrollHistories(target);
    markOpenConversation();
    noticeNewMessages();
    // Something opened under "Waiting for you" (helpline.todo): take the reader to its heading.
    if (target && target.classList && target.classList.contains("todo-open")) {
      var opened = target.querySelector("h2[tabindex], h3[tabindex]");
      if (opened) {
        opened.focus();
      }
    }
    if (target && (target.id === "pane" || target.id === "read-along")) {
      var heading = target.querySelector("#pane-heading");
      if (heading) {
        heading.focus();
      }
      watchCurrent();
    }
  });

  document.body.addEventListener("htmx:historyRestore", function () {
    watchCurrent();
    refreshAll();
  });

  // --- the reply box and the prepared-replies picker ---------------------------------------
  // Typing "/" at the start of a word (or the "Prepared replies" button) opens a searchable
  // list grouped by category, with a preview; Enter or a click inserts the reply where the
  // caret was, to be adapted before sending. Esc closes; a second "/" types a slash.
  function picker() {
    return document.getElementById("canned-picker");
  }

  function pickerOptions() {
    var open = picker();
    return open ? Array.prototype.slice.call(open.querySelectorAll("[role=option]")) : [];
  }

  function visibleOptions() {
    return pickerOptions().filter(function (option) {
      return !option.hidden;
    });
  }

  function setActive(option) {
    var open = picker();
    var search = document.getElementById("picker-search");
    pickerOptions().forEach(function (each) {
      each.setAttribute("aria-selected", each === option ? "true" : "false");
    });
    var preview = document.getElementById("picker-preview");
    if (option) {
      search.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
      if (preview) {
        preview.textContent = option.dataset.body;
      }
    } else {
      search.removeAttribute("aria-activedescendant");
      if (preview) {
        preview.textContent = open ? open.dataset.textNone : "";
      }
    }
  }

  function filterPicker() {
    var search = document.getElementById("picker-search");
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    picker()
      .querySelectorAll("[role=group]")
      .forEach(function (group) {
        var any = false;
        group.querySelectorAll("[role=option]").forEach(function (option) {
          var haystack = option.dataset.search || "";
          option.hidden = !words.every(function (word) {
            return haystack.indexOf(word) !== -1;
          });
          any = any || !option.hidden;
        });
        group.hidden = !any;
      });
    setActive(visibleOptions()[0] || null);
  }

  function openPicker(box) {
    var open = picker();
    if (!open || !box) {
      return false;
    }
    box.dataset.caretStart = box.selectionStart;
    box.dataset.caretEnd = box.selectionEnd;
    open.hidden = false;
    var search = document.getElementById("picker-search");
    search.value = "";
    search.setAttribute("aria-expanded", "true");
    filterPicker();
    search.focus();
    return true;
  }

  function closePicker(insertText) {
    var open = picker();
    var box = document.getElementById("reply-body");
    if (!open || open.hidden) {
      return;
    }
    open.hidden = true;
    document.getElementById("picker-search").setAttribute("aria-expanded", "false");
    if (!box) {
      return;
    }
    var start = box.dataset.caretStart ? Number(box.dataset.caretStart) : box.value.length;
    var end = box.dataset.caretEnd ? Number(box.dataset.caretEnd) : start;
    box.focus();
    if (insertText) {
      box.setRangeText(insertText, start, end, "end");
      box.dispatchEvent(new Event("input", { bubbles: true }));
    } else {
      box.setSelectionRange(start, end);
    }
  }

  function insertReply(option) {
    var box = document.getElementById("reply-body");
    if (!option || !box) {
      return;
    }
    var start = box.dataset.caretStart ? Number(box.dataset.caretStart) : box.value.length;
    var insert = option.dataset.body;
    if (start > 0 && !/\s$/.test(box.value.slice(0, start))) {
      insert = " " + insert;
    }
    closePicker(insert);
  }

  document.addEventListener("click", function (evt) {
    if (evt.target.closest("[data-open-picker]")) {
      openPicker(document.getElementById("reply-body"));
      return;
    }
    var option = evt.target.closest("#canned-picker [role=option]");
    if (option) {
      insertReply(option);
      return;
    }
    if (evt.target.closest("[data-close-picker]")) {
      closePicker();
    }
  });

  document.addEventListener("input", function (evt) {
    if (evt.target.id === "picker-search") {
      filterPicker();
    }
  });

  document.addEventListener("keydown", function (evt) {
    var box = document.getElementById("reply-body");
    if (evt.target === box && evt.key === "/" && !evt.ctrlKey && !evt.altKey && !evt.metaKey) {
      var before = box.value.slice(0, box.selectionStart);
      if ((before === "" || /\s$/.test(before)) && picker()) {
        evt.preventDefault();
        openPicker(box);
      }
      return;
    }
    if (evt.target.id !== "picker-search") {
      return;
    }
    var options = visibleOptions();
    var current = options.findIndex(function (option) {
      return option.getAttribute("aria-selected") === "true";
    });
    if (evt.key === "ArrowDown" || evt.key === "ArrowUp") {
      evt.preventDefault();
      if (options.length) {
        var step = evt.key === "ArrowDown" ? 1 : -1;
        setActive(options[(current + step + options.length) % options.length]);
      }
    } else if (evt.key === "Enter") {
      evt.preventDefault();
      insertReply(options[current]);
    } else if (evt.key === "Escape") {
      evt.preventDefault();
      closePicker();
    } else if (evt.key === "/" && evt.target.value === "") {
      evt.preventDefault();
      closePicker("/");
    }
  });

  document.addEventListener("focusout", function (evt) {
    if (evt.target.id === "reply-body") {
      evt.target.dataset.caretStart = evt.target.selectionStart;
      evt.target.dataset.caretEnd = evt.target.selectionEnd;
    }
  });

  document.addEventListener("click", function (evt) {
    if (evt.target.closest("[data-retry-send]")) {
      var form = document.getElementById("reply");
      if (form && !isDown()) {
        unsent(false);
        form.requestSubmit();
      } else {
        unsent(true, text("NoConnection"));
      }
    }
  });

  function conversationLinks() {
    return Array.prototype.slice.call(document.querySelectorAll("#mine a[data-opens-pane]"));
  }

  function switchConversation(step) {
    var links = conversationLinks();
    if (!links.length) {
      return;
    }
    var current = links.findIndex(function (link) {
      return link.getAttribute("aria-current") === "true";
    });
    var next = current === -1 ? (step > 0 ? 0 : links.length - 1) : (current + step + links.length) % links.length;
    links[next].click();
  }

  document.addEventListener("keydown", function (evt) {
    if (evt.defaultPrevented) {
      return;
    }
    if (evt.target.id === "reply-body" && evt.key === "Enter" && (evt.ctrlKey || evt.metaKey)) {
      evt.preventDefault();
      if (isDown()) {
        unsent(true, text("NoConnection"));
        return;
      }
      evt.target.form.requestSubmit();
      return;
    }
    // Alt+Down / Alt+Up: next or previous of my conversations; Alt+N: take next.
    if (evt.altKey && !evt.ctrlKey && !evt.metaKey) {
      if (evt.key === "ArrowDown" || evt.key === "ArrowUp") {
        evt.preventDefault();
        switchConversation(evt.key === "ArrowDown" ? 1 : -1);
      } else if (evt.code === "KeyN") {
        var take = document.querySelector("#queue [data-take-next]");
        if (take && !take.disabled) {
          evt.preventDefault();
          take.click();
        }
      }
    }
  });

  window.addEventListener("beforeunload", function (evt) {
    var box = document.getElementById("reply-body");
    if (box && box.value.trim()) {
      evt.preventDefault();
      evt.returnValue = "";
    }
  });

  // --- small display helpers ------------------------------------------------------------------
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-waiting-since]").forEach(function (element) {
      var since = Date.parse(element.dataset.waitingSince);
      if (!isNaN(since) && text("Minutes")) {
        var minutes = Math.max(0, Math.floor((now - since) / 60000));
        element.textContent = text("Minutes").replace("%(minutes)s", String(minutes));
      }
    });
    document.querySelectorAll("[data-reply-since]").forEach(function (element) {
      var since = Date.parse(element.dataset.replySince);
      if (isNaN(since) || !text("ReplyMinutes")) {
        return;
      }
      var minutes = Math.max(0, Math.floor((now - since) / 60000));
      element.textContent = text("ReplyMinutes").replace("%(minutes)s", String(minutes));
      var host = element.closest("[data-wait-host]") || element;
      var red = Date.parse(element.dataset.redAt);
      var amber = Date.parse(element.dataset.amberAt);
      var state = now >= red ? "red" : now >= amber ? "amber" : "ok";
      host.classList.remove("wait-ok", "wait-amber", "wait-red");
      host.classList.add("wait-" + state);
      var flag = host.querySelector("[data-reply-flag]");
      if (flag) {
        flag.hidden = state !== "red";
      }
    });
    document.querySelectorAll("[data-alert-at]").forEach(function (row) {
      var at = Date.parse(row.dataset.alertAt);
      if (!isNaN(at) && now >= at) {
        row.classList.add("overdue");
        var flag = row.querySelector("[data-overdue-flag]");
        if (flag) {
          flag.hidden = false;
        }
      }
    });
  }

  function scrollHistories(scope) {
    (scope || document).querySelectorAll("[data-history]").forEach(function (list) {
      list.scrollTop = list.scrollHeight;
    });
  }

  function markOpenConversation() {
    var pane = document.querySelector("#pane [data-pane-contact]");
    var open = pane ? pane.dataset.paneContact : "";
    document.querySelectorAll("#mine [data-contact-id]").forEach(function (link) {
      if (link.dataset.contactId === open) {
        link.setAttribute("aria-current", "true");
      } else {
        link.removeAttribute("aria-current");
      }
    });
  }

  function announce(message, urgent) {
    var region = urgent ? document.getElementById("console-urgent") || announcer : announcer;
    if (!region || !message) {
      return;
    }
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = message;
    }, 50);
  }

  function noticeNewMessages() {
    var fresh = false;
    document.querySelectorAll("#pane-live").forEach(function (live) {
      var inbound = live.querySelectorAll(".msg-in");
      var last = inbound.length ? inbound[inbound.length - 1].dataset.messageId : "";
      var contactId = live.dataset.contactId;
      if (contactId in lastInbound && last && lastInbound[contactId] !== last) {
        fresh = true;
      }
      lastInbound[contactId] = last;
    });
    var unread = 0;
    document.querySelectorAll("#mine .mine-list .badge").forEach(function (badge) {
      unread += parseInt(badge.textContent, 10) || 0;
    });
    if (lastUnread !== null && unread > lastUnread) {
      fresh = true;
    }
    lastUnread = unread;
    if (fresh) {
      announce(text("NewMessage"));
    }
  }

  tick();
  scrollHistories(document);
  noticeNewMessages();
  applyConnectionState();
  window.setInterval(tick, 15000);

  // Refreshes the page makes by itself are marked, so they keep the view current without
  // counting as the counsellor's activity: an unattended console still times out.
  document.body.addEventListener("htmx:configRequest", function (event) {
    var trigger = event.detail.triggeringEvent;
    if (trigger && trigger.type === "console:refresh") {
      event.detail.headers["X-Helpline-Background"] = "1";
    }
  });
  connect();
})();
