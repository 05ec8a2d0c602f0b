/* The help desk's chat widget. One tag on any page:
 *
 *   <script src="https://desk.example.com/static/widget/widget.js" defer
 *           data-title="Help" data-user-id="…" data-user-email="…" data-user-signature="…"></script>
 *
 * Plain JavaScript, no build step, nothing inline and no eval (it runs under a strict
 * Content-Security-Policy). Customer and desk text is put into the page as text, never as
 * markup. The protocol is described in docs/web-protocol.md.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__helpdeskWidget) {
    return;
  }
  window.__helpdeskWidget = true;

  var server = new URL(script.src, document.baseURI);
  var origin = server.origin;
  var data = script.dataset;
  var title = data.title || "Chat with us";
  var storeKey = "helpdesk-widget:" + origin;
  var CSS_PATH = "/static/widget/widget.css";
  var RETRY_MAX_MS = 8000;
  var TYPING_MS = 10000;

  var state = {
    token: null,
    lastSeq: 0, // the newest log entry shown: a reconnect resumes after it
    pending: [], // messages not yet acknowledged (kept across reloads)
    socket: null,
    events: null, // the fallback's EventSource
    useFallback: data.transport === "sse",
    failedOpens: 0,
    retryMs: 250,
    retryTimer: null,
    typingTimer: null,
    open: false,
    welcomed: false
  };

  /* ---- storage: the session token and unsent messages survive a reload ---- */

  function load() {
    try {
      var saved = JSON.parse(localStorage.getItem(storeKey) || "{}");
      state.token = typeof saved.token === "string" ? saved.token : null;
      state.pending = Array.isArray(saved.pending) ? saved.pending : [];
      state.open = saved.open === true;
    } catch (e) {
      state.token = null;
      state.pending = [];
    }
  }

  function save() {
    try {
      localStorage.setItem(
        storeKey,
        JSON.stringify({ token: state.token, pending: state.pending, open: state.open })
      );
    } catch (e) {
      /* private mode: the session lasts as long as the page */
    }
  }

  function newId() {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  /* ---- the page: a launcher button and a dialog panel ---- */

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  var css = el("link");
  css.rel = "stylesheet";
  css.href = origin + CSS_PATH;
  document.head.appendChild(css);

  var root = el("div", "hdw-root");
  var launcher = el("button", "hdw-launcher", title);
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "hdw-panel");

  var panel = el("section", "hdw-panel");
  panel.id = "hdw-panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-labelledby", "hdw-title");

  var header = el("header", "hdw-header");
  var heading = el("h2", "hdw-title", title);
  heading.id = "hdw-title";
  var status = el("span", "hdw-status", "Connecting…");
  status.setAttribute("role", "status");
  var close = el("button", "hdw-close", "×");
  close.type = "button";
  close.setAttribute("aria-label", "Close chat");
  header.appendChild(heading);
  header.appendChild(status);
  header.appendChild(close);

  var log = el("ol", "hdw-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-relevant", "additions");
  log.setAttribute("aria-label", "Conversation");
  log.tabIndex = 0;

  var typing = el("p", "hdw-typing", "Typing…");
  typing.hidden = true;
  typing.setAttribute("aria-hidden", "true");

  var alertLine = el("p", "hdw-alert");
  alertLine.setAttribute("role", "alert");

  var form = el("form", "hdw-form");
  var label = el("label", "hdw-hidden", "Your message");
  label.htmlFor = "hdw-input";
  var input = el("textarea", "hdw-input");
  input.id = "hdw-input";
  input.rows = 1;
  input.maxLength = 2000;
  input.placeholder = "Type your question…";
  var send = el("button", "hdw-send", "Send");
  send.type = "submit";
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(send);

  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(alertLine);
  panel.appendChild(form);
  root.appendChild(panel);
  root.appendChild(launcher);

  function setOpen(open, focus) {
    state.open = open;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    root.classList.toggle("hdw-is-open", open);
    save();
    if (open && focus) {
      input.focus();
    } else if (!open && focus) {
      launcher.focus();
    }
  }

  launcher.addEventListener("click", function () {
    setOpen(!state.open, true);
  });
  close.addEventListener("click", function () {
    setOpen(false, true);
  });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      setOpen(false, true);
    }
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      submit();
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit();
  });

  /* ---- rendering log entries (text only; links become anchors built by hand) ---- */

  var LINK = /https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)]/g;

  function textWithLinks(node, text) {
    var at = 0;
    var match;
    LINK.lastIndex = 0;
    while ((match = LINK.exec(text)) !== null) {
      node.appendChild(document.createTextNode(text.slice(at, match.index)));
      var link = el("a", "hdw-link", match[0]);
      link.href = match[0];
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      node.appendChild(link);
      at = match.index + match[0].length;
    }
    node.appendChild(document.createTextNode(text.slice(at)));
  }

  function fillMessage(item, entry) {
    item.textContent = ""; // relayed replies carry their author in the text ("Dana (Support): …")
    var body = el("p", "hdw-text");
    textWithLinks(body, entry.text || "");
    item.appendChild(body);
    var buttons = entry.buttons || [];
    if (buttons.length) {
      var group = el("div", "hdw-buttons");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Choices");
      buttons.forEach(function (choice) {
        var button = el("button", "hdw-choice hdw-" + (choice.style || "default"), choice.label);
        button.type = "button";
        button.addEventListener("click", function () {
          choose(group, button, choice);
        });
        group.appendChild(button);
      });
      item.appendChild(group);
    }
  }

  function retireOlderChoices(except) {
    var groups = log.querySelectorAll(".hdw-buttons");
    Array.prototype.forEach.call(groups, function (group) {
      if (group.parentNode !== except) {
        Array.prototype.forEach.call(group.querySelectorAll("button"), function (b) {
          b.disabled = true;
        });
      }
    });
  }

  function visitorItem(id, text) {
    var item = log.querySelector('[data-id="' + id + '"]');
    if (!item) {
      item = el("li", "hdw-entry hdw-visitor");
      item.setAttribute("data-id", id);
      item.appendChild(el("span", "hdw-hidden", "You: "));
      var body = el("p", "hdw-text");
      body.textContent = text;
      item.appendChild(body);
      log.appendChild(item);
    }
    return item;
  }

  function showEntry(entry) {
    if (entry.seq <= state.lastSeq) {
      return; // already shown (a resend after a reconnect)
    }
    state.lastSeq = entry.seq;
    if (entry.kind === "visitor") {
      var mine = visitorItem(entry.id, entry.text);
      mine.classList.remove("hdw-pending");
      mine.setAttribute("data-seq", String(entry.seq));
    } else if (entry.kind === "edit") {
      var target = log.querySelector('[data-seq="' + entry.of + '"]');
      if (target) {
        fillMessage(target, entry);
      }
    } else {
      var item = el("li", "hdw-entry hdw-desk");
      item.setAttribute("data-seq", String(entry.seq));
      fillMessage(item, entry);
      log.appendChild(item);
      retireOlderChoices(item);
      showTyping(false);
    }
    log.scrollTop = log.scrollHeight;
  }

  function showTyping(on) {
    clearTimeout(state.typingTimer);
    typing.hidden = !on;
    if (on) {
      state.typingTimer = setTimeout(function () {
        typing.hidden = true;
      }, TYPING_MS);
    }
  }

  function say(text) {
    alertLine.textContent = text || "";
  }

  /* ---- sending: every message is kept until the server acknowledges it ---- */

  function submit() {
    var text = input.value.trim();
    if (!text) {
      say("Please type a message first.");
      return;
    }
    var message = { type: "message", id: newId(), text: text };
    input.value = "";
    say("");
    visitorItem(message.id, text).classList.add("hdw-pending");
    log.scrollTop = log.scrollHeight;
    state.pending.push(message);
    save();
    transmit(message);
  }

  function choose(group, button, choice) {
    Array.prototype.forEach.call(group.querySelectorAll("button"), function (b) {
      b.disabled = true;
    });
    button.setAttribute("aria-pressed", "true");
    var action = { type: "action", id: newId(), payload: choice.payload };
    state.pending.push(action);
    save();
    transmit(action);
  }

  function forget(id) {
    state.pending = state.pending.filter(function (frame) {
      return frame.id !== id;
    });
    save();
  }

  function transmit(frame) {
    if (!state.welcomed) {
      return; // sent with the rest of the pending messages once connected
    }
    if (state.useFallback) {
      post(frame);
    } else if (state.socket && state.socket.readyState === WebSocket.OPEN) {
      state.socket.send(JSON.stringify(frame));
    }
  }

  function flushPending() {
    state.pending.forEach(transmit);
  }

  /* ---- frames from the server ---- */

  function receive(frame) {
    if (frame.type === "welcome") {
      state.token = frame.token;
      state.welcomed = true;
      state.retryMs = 250;
      status.textContent = "Online";
      root.classList.remove("hdw-offline");
      save();
      if (state.useFallback) {
        openEvents();
      }
      flushPending();
    } else if (frame.type === "entry") {
      showEntry(frame);
    } else if (frame.type === "ack") {
      forget(frame.id);
    } else if (frame.type === "typing") {
      showTyping(true);
    } else if (frame.type === "error") {
      refused(frame);
    }
  }

  function refused(frame) {
    if (frame.code === "bad_token") {
      state.token = null; // expired or not ours: start a new conversation
      state.lastSeq = 0;
      save();
      return;
    }
    if (frame.code === "rate_limited" || frame.code === "unavailable") {
      say(frame.message);
      setTimeout(flushPending, 2000);
      return;
    }
    say(frame.message);
    if (frame.id) {
      var item = log.querySelector('[data-id="' + frame.id + '"]');
      var kept = state.pending.filter(function (f) {
        return f.id === frame.id;
      })[0];
      if (item && !item.getAttribute("data-seq")) {
        item.parentNode.removeChild(item);
      }
      if (kept && kept.text && !input.value) {
        input.value = kept.text; // nothing typed is lost
      }
      forget(frame.id);
    }
  }

  function hello() {
    var frame = { type: "hello", token: state.token || "", last_seq: state.lastSeq };
    if (data.userId) {
      frame.identity = {
        user_id: data.userId,
        email: data.userEmail || "",
        name: data.userName || "",
        signature: data.userSignature || ""
      };
    }
    return frame;
  }

  /* ---- the WebSocket, reconnecting with backoff and resuming after lastSeq ---- */

  function connect() {
    clearTimeout(state.retryTimer);
    state.welcomed = false;
    if (state.useFallback || !("WebSocket" in window)) {
      state.useFallback = true;
      post(hello());
      return;
    }
    var url = origin.replace(/^http/, "ws") + "/widget/ws";
    var socket = new WebSocket(url);
    var opened = false;
    state.socket = socket;
    socket.addEventListener("open", function () {
      opened = true;
      state.failedOpens = 0;
      socket.send(JSON.stringify(hello()));
    });
    socket.addEventListener("message", function (event) {
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      receive(frame);
    });
    socket.addEventListener("close", function () {
      if (state.socket !== socket) {
        return;
      }
      state.welcomed = false;
      state.socket = null;
      if (!opened) {
        state.failedOpens += 1;
        if (state.failedOpens >= 3) {
          state.useFallback = true; // WebSockets blocked on this network: SSE + POST
        }
      }
      offline();
    });
  }

  function offline() {
    status.textContent = "Reconnecting…";
    root.classList.add("hdw-offline");
    state.retryTimer = setTimeout(connect, state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, RETRY_MAX_MS);
  }

  /* ---- the fallback: Server-Sent Events down, POST up ---- */

  function post(frame) {
    var body = JSON.parse(JSON.stringify(frame));
    if (frame.type !== "hello") {
      body.token = state.token;
    }
    fetch(origin + "/widget/messages", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    })
      .then(function (response) {
        return response.json();
      })
      .then(function (answer) {
        (answer.frames || []).forEach(receive);
        if (frame.type === "hello" && !state.welcomed) {
          offline();
        }
      })
      .catch(function () {
        if (frame.type === "hello") {
          offline();
        }
      });
  }

  function openEvents() {
    if (state.events) {
      state.events.close();
    }
    var url =
      origin +
      "/widget/events?token=" +
      encodeURIComponent(state.token) +
      "&after=" +
      state.lastSeq;
    var events = new EventSource(url);
    state.events = events;
    events.addEventListener("message", function (event) {
      receive(JSON.parse(event.data));
    });
    events.addEventListener("error", function () {
      if (events.readyState === EventSource.CLOSED) {
        state.events = null;
        offline();
      }
    });
  }

  function start() {
    load();
    document.body.appendChild(root);
    setOpen(state.open || data.open === "true", false);
    state.pending.forEach(function (frame) {
      if (frame.type === "message") {
        visitorItem(frame.id, frame.text).classList.add("hdw-pending");
      }
    });
    connect();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
