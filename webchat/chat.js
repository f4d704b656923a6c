// Web chat for the clinic assistant: talks socket.io to Rasa's socketio channel.
// The session id lives in localStorage so a reload continues the same conversation, and the
// transcript shown on screen is kept there too (capped) so the visitor sees what was said.
(function () {
  "use strict";

  var SESSION_KEY = "clinic-chat-session";
  var HISTORY_KEY = "clinic-chat-history";
  var HISTORY_LIMIT = 200;
  var TYPING_TIMEOUT_MS = 20000;

  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var statusLine = document.getElementById("status");
  var restart = document.getElementById("restart");

  var sessionId = localStorage.getItem(SESSION_KEY);
  var history = loadHistory();
  var typingItem = null;
  var typingTimer = null;

  // Long-polling only: Rasa 3.6 runs on Sanic 21.12, whose websocket handling the
  // engine.io Sanic driver does not support (the upgrade fails on every attempt).
  var socket = io(window.location.origin, { path: "/socket.io", transports: ["polling"] });

  function loadHistory() {
    try {
      return JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]");
    } catch (e) {
      return [];
    }
  }

  function remember(entry) {
    history.push(entry);
    if (history.length > HISTORY_LIMIT) history = history.slice(-HISTORY_LIMIT);
    localStorage.setItem(HISTORY_KEY, JSON.stringify(history));
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  // Text is inserted as text nodes (never as HTML); web addresses become links.
  function appendText(element, text) {
    var pattern = /(https?:\/\/[^\s<]+[^\s<.,;:!?)])/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      element.appendChild(document.createTextNode(text.slice(last, match.index)));
      var link = document.createElement("a");
      link.href = match[0];
      link.textContent = match[0];
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      element.appendChild(link);
      last = match.index + match[0].length;
    }
    element.appendChild(document.createTextNode(text.slice(last)));
  }

  function showMessage(sender, text) {
    var item = document.createElement("li");
    item.className = "msg msg--" + sender;
    var who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = sender === "bot" ? "Assistant: " : "You: ";
    item.appendChild(who);
    appendText(item, text);
    log.insertBefore(item, typingItem);
    scrollToEnd();
  }

  function showReplies(replies, answered) {
    var item = document.createElement("li");
    item.className = "replies";
    replies.forEach(function (reply) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = reply.title;
      button.disabled = answered;
      button.addEventListener("click", function () {
        markRepliesAnswered();
        send(reply.payload, reply.title);
      });
      item.appendChild(button);
    });
    log.insertBefore(item, typingItem);
    scrollToEnd();
  }

  // Once the visitor has answered, earlier buttons stop working: a late click on an old
  // question would otherwise answer a question the assistant is no longer asking.
  function markRepliesAnswered() {
    log.querySelectorAll(".replies button").forEach(function (b) { b.disabled = true; });
    history.forEach(function (entry) { if (entry.replies) entry.answered = true; });
    localStorage.setItem(HISTORY_KEY, JSON.stringify(history));
  }

  function showTyping() {
    hideTyping();
    typingItem = document.createElement("li");
    typingItem.className = "typing";
    typingItem.setAttribute("aria-label", "The assistant is typing");
    typingItem.innerHTML = "<span></span><span></span><span></span>";
    log.appendChild(typingItem);
    scrollToEnd();
    typingTimer = setTimeout(hideTyping, TYPING_TIMEOUT_MS);
  }

  function hideTyping() {
    if (typingTimer) clearTimeout(typingTimer);
    if (typingItem) typingItem.remove();
    typingItem = null;
    typingTimer = null;
  }

  function setStatus(text) {
    statusLine.textContent = text || "";
    statusLine.hidden = !text;
  }

  function send(payload, shownText) {
    if (shownText) {
      showMessage("user", shownText);
      remember({ sender: "user", text: shownText });
    }
    socket.emit("user_uttered", { message: payload, session_id: sessionId });
    showTyping();
  }

  function replay() {
    history.forEach(function (entry) {
      if (entry.replies) showReplies(entry.replies, entry.answered);
      else showMessage(entry.sender, entry.text);
    });
  }

  socket.on("connect", function () {
    setStatus("");
    socket.emit("session_request", { session_id: sessionId });
  });

  socket.on("session_confirm", function (confirmedId) {
    var isNew = confirmedId !== sessionId;
    sessionId = confirmedId;
    localStorage.setItem(SESSION_KEY, sessionId);
    if (isNew && history.length === 0) send("/greet");
  });

  socket.on("bot_uttered", function (message) {
    hideTyping();
    if (message.text) {
      showMessage("bot", message.text);
      remember({ sender: "bot", text: message.text });
    }
    var replies = message.quick_replies || message.buttons;
    if (replies && replies.length) {
      showReplies(replies, false);
      remember({ replies: replies, answered: false });
    }
    if (message.attachment && message.attachment.payload && message.attachment.payload.src) {
      showMessage("bot", message.attachment.payload.src);
    }
  });

  socket.on("disconnect", function () {
    hideTyping();
    setStatus("Connection lost. Reconnecting…");
  });

  socket.on("connect_error", function () {
    setStatus("Can't reach the assistant right now. Retrying…");
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    markRepliesAnswered();
    send(text, text);
  });

  restart.addEventListener("click", function () {
    localStorage.removeItem(SESSION_KEY);
    localStorage.removeItem(HISTORY_KEY);
    window.location.reload();
  });

  replay();
  input.focus();
})();
