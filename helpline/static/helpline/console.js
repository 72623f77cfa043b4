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
  function setState(state) {
    root.dataset.socketState = state;
    if (!connection) {
      return;
    }
    connection.dataset.state = state;
    connection.textContent =
      state === "live" ? text("Live") : state === "ended" ? text("Ended") : text("Reconnecting");
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.dataset.socketPath);
    socket.addEventListener("open", function () {
      attempts = 0;
      setState("live");
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
      window.setTimeout(connect, delay);
    });
  }

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
    tick();
    scrollHistories(target);
    markOpenConversation();
    noticeNewMessages();
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

  // --- the reply box --------------------------------------------------------------------------
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest("[data-canned]");
    var box = document.getElementById("reply-body");
    if (!button || !box) {
      return;
    }
    var start = box.dataset.caretStart ? Number(box.dataset.caretStart) : box.value.length;
    var end = box.dataset.caretEnd ? Number(box.dataset.caretEnd) : start;
    var insert = button.dataset.canned;
    if (start > 0 && !/\s$/.test(box.value.slice(0, start))) {
      insert = " " + insert;
    }
    box.setRangeText(insert, start, end, "end");
    box.focus();
    box.dispatchEvent(new Event("input", { bubbles: true }));
    var details = button.closest("details");
    if (details) {
      details.open = false;
    }
  });

  document.addEventListener("focusout", function (evt) {
    if (evt.target.id === "reply-body") {
      evt.target.dataset.caretStart = evt.target.selectionStart;
      evt.target.dataset.caretEnd = evt.target.selectionEnd;
    }
  });

  document.addEventListener("keydown", function (evt) {
    if (evt.target.id === "reply-body" && evt.key === "Enter" && (evt.ctrlKey || evt.metaKey)) {
      evt.preventDefault();
      evt.target.form.requestSubmit();
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

  function announce(message) {
    if (!announcer || !message) {
      return;
    }
    announcer.textContent = "";
    window.setTimeout(function () {
      announcer.textContent = message;
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
    document.querySelectorAll("#mine .badge").forEach(function (badge) {
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
  window.setInterval(tick, 30000);

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
