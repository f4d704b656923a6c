// Web chat for the clinic assistant: talks socket.io to the Rasa server's socketio channel.
// The server issues the session id (the only key to the conversation) and greets a new visitor.
// localStorage keeps that id and nothing else, so a reload continues the same conversation,
// but what was said is never left on the device: after a reload the page starts empty, with a
// line saying the conversation continues.
(function () {
  "use strict";

  var SESSION_KEY = "clinic-chat-session";
  var OLD_HISTORY_KEY = "clinic-chat-history"; // earlier versions kept the transcript here
  var TYPING_TIMEOUT_MS = 20000;

  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var statusLine = document.getElementById("status");
  var restart = document.getElementById("restart");

  localStorage.removeItem(OLD_HISTORY_KEY);
  var sessionId = localStorage.getItem(SESSION_KEY);
  var typingItem = null;
  var typingTimer = null;

  // Long-polling only: Rasa 3.6 runs on Sanic 21.12, whose websocket handling the
  // engine.io Sanic driver does not support (the upgrade fails on every attempt).
  var socket = io(window.location.origin, { path: "/socket.io", transports: ["polling"] });

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

  function showNote(text) {
    var item = document.createElement("li");
    item.className = "note";
    item.textContent = text;
    log.insertBefore(item, typingItem);
  }

  function showReplies(replies) {
    var item = document.createElement("li");
    item.className = "replies";
    replies.forEach(function (reply) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = reply.title;
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

  // The server knows which conversation this connection belongs to: only the text is sent,
  // with an id. A message still unanswered when the connection drops is sent again after
  // reconnecting; the id makes the server answer it once, even if it had already run.
  var unanswered = null;

  function messageId() {
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function send(payload, shownText) {
    showMessage("user", shownText);
    unanswered = { message: payload, message_id: messageId() };
    socket.emit("user_uttered", unanswered);
    showTyping();
  }

  socket.on("connect", function () {
    setStatus("");
    socket.emit("session_request", { session_id: sessionId });
  });

  // The stored id if the server issued it, else a new conversation (the server greets it).
  socket.on("session_confirm", function (confirmedId) {
    var continued = confirmedId === sessionId;
    if (continued && !log.querySelector(".msg, .note")) {
      showNote("Welcome back: your conversation continues. Earlier messages aren't shown again, so they don't stay on this device.");
    }
    if (!continued && sessionId) showNote("A new conversation has started.");
    if (!continued) showTyping();
    sessionId = confirmedId;
    localStorage.setItem(SESSION_KEY, sessionId);
    if (continued && unanswered) {
      socket.emit("user_uttered", unanswered);
      showTyping();
    }
    if (!continued) unanswered = null;
  });

  socket.on("bot_uttered", function (message) {
    unanswered = null;
    hideTyping();
    if (message.text) showMessage("bot", message.text);
    var replies = message.quick_replies || message.buttons;
    if (replies && replies.length) showReplies(replies);
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
    window.location.reload();
  });

  input.focus();
})();
