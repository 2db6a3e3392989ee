/*! Āwhina chat widget. Plain JavaScript, no framework; loaded by /widget.js. */
/*
 * Talks to Rasa's socket.io channel (events session_request / session_confirm,
 * user_uttered / bot_uttered). The conversation id is kept in localStorage so a
 * reload or a dropped connection carries on the same conversation; what was said
 * is fetched from our server (/api/history/<id>, read from Rasa's tracker), so
 * messages pushed while the page was closed (a navigator's reply) show too, and
 * nothing but the id is stored on the device.
 *
 * Message text only ever reaches the page through textContent and DOM nodes,
 * never innerHTML.
 */
(() => {
  "use strict";

  const loader = window.AwhinaWidget;
  const io = window.io;
  if (!loader || typeof io !== "function" || loader.started) return;
  loader.started = true;

  const SESSION_KEY = "awhina.session";
  const OPEN_KEY = "awhina.open";
  const SESSION_ID = /^[0-9a-f]{32}$/;
  const TYPING_TIMEOUT_MS = 30000;
  const HISTORY_TIMEOUT_MS = 15000;
  const HISTORY_RETRY_MS = [1000, 3000, 10000, 30000];
  const MIN_CONTRAST = 4.5;

  const LABELS = {
    en: {
      launcher: "Chat with Āwhina",
      unread: (n) => `${n} new`,
      close: "Close chat",
      quickExit: "Quick exit",
      note: "In an emergency call 111. Quick exit (Shift + Esc) leaves this site at once.",
      log: "Conversation",
      you: "You:",
      bot: "Āwhina:",
      message: "Your message",
      send: "Send",
      counter: (n, max) => `${n} / ${max} characters`,
      tooLong: (max) => `Messages can be up to ${max} characters.`,
      typing: "Āwhina is typing…",
      connecting: "Connecting…",
      reconnecting: "Connection lost. Trying again…",
      historyFailed: "Earlier messages could not be loaded just now.",
      clear: "Clear this chat from this device",
      clearQuestion: "Remove this conversation from this device and start a new one?",
      clearYes: "Yes, clear it",
      clearNo: "Cancel",
      cleared: "This chat was cleared from this device.",
      image: "Image from Āwhina",
      newTab: "(opens in a new tab)",
    },
    // Only labels we are sure of; the rest fall back to English. Sites can supply
    // their own (reviewed) wording with AwhinaConfig.labels.
    mi: {
      launcher: "Kōrero ki a Āwhina",
      close: "Katia",
      message: "Tō karere",
      send: "Tukua",
    },
  };

  // ---- configuration -------------------------------------------------------

  const userConfig = window.AwhinaConfig && typeof window.AwhinaConfig === "object" ? window.AwhinaConfig : {};
  const str = (value, fallback) => (typeof value === "string" && value.trim() ? value : fallback);
  const httpUrl = (value, fallback) => {
    if (typeof value !== "string" || !value.trim()) return fallback;
    try {
      const url = new URL(value, document.baseURI);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : fallback;
    } catch (e) {
      return fallback;
    }
  };
  const defaults = loader.defaults;
  const language = LABELS[userConfig.labelsLanguage] ? userConfig.labelsLanguage : "en";
  const userLabels = userConfig.labels && typeof userConfig.labels === "object" ? userConfig.labels : {};
  const label = (key, ...args) => {
    const value = [userLabels[key], LABELS[language][key], LABELS.en[key]].find((v) => v !== undefined);
    return typeof value === "function" ? value(...args) : String(value);
  };
  const config = {
    serverUrl: httpUrl(userConfig.serverUrl, defaults.serverUrl),
    socketPath: str(userConfig.socketPath, defaults.socketPath),
    title: str(userConfig.title, "Āwhina"),
    greeting: typeof userConfig.greeting === "string" ? userConfig.greeting : "",
    exitUrl: httpUrl(userConfig.exitUrl, defaults.exitUrl),
    colours: userConfig.colours || userConfig.colors || {},
    maxLength: Math.min(Number(userConfig.maxLength) || defaults.maxLength, defaults.maxLength),
    historyUrl: `${loader.base}api/history/`,
  };

  // ---- storage (the conversation id only) ----------------------------------

  const store = (area, key, value) => {
    try {
      if (value === null) area.removeItem(key);
      else area.setItem(key, value);
    } catch (e) {
      /* storage disabled (private mode): the chat still works, without resuming */
    }
  };
  const read = (area, key) => {
    try {
      return area.getItem(key);
    } catch (e) {
      return null;
    }
  };
  const storedId = read(window.localStorage, SESSION_KEY);
  let sessionId = storedId && SESSION_ID.test(storedId) ? storedId : null;

  // ---- DOM helpers ----------------------------------------------------------

  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) node.append(child);
    return node;
  };
  const srOnly = (text) => el("span", { class: "awhina-sr", text });

  const SAFE_LINK = /^(https?:|mailto:|tel:)/i;
  const safeHref = (raw) => {
    try {
      const url = new URL(raw);
      return SAFE_LINK.test(url.protocol) ? url.href : null;
    } catch (e) {
      return null;
    }
  };
  const link = (href, text) => {
    const a = el("a", { href, text });
    if (/^https?:/i.test(href)) {
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.append(" ", srOnly(label("newTab")));
    }
    return a;
  };

  // **bold**, [text](url) and bare http(s) URLs (trailing punctuation left out).
  const INLINE = /\*\*(?=\S)([^*]+?)\*\*|\[([^\]\n]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<>"]*[^\s<>".,;:!?')\]])/g;

  const renderInline = (text, parent, allowBold = true) => {
    let last = 0;
    for (const m of text.matchAll(INLINE)) {
      if (m.index > last) parent.append(text.slice(last, m.index));
      if (m[1] !== undefined) {
        if (allowBold) {
          const strong = el("strong");
          renderInline(m[1], strong, false);
          parent.append(strong);
        } else {
          parent.append(m[0]);
        }
      } else if (m[2] !== undefined) {
        const href = safeHref(m[3]);
        parent.append(href ? link(href, m[2]) : m[0]);
      } else {
        const href = safeHref(m[4]);
        parent.append(href ? link(href, m[4]) : m[4]);
      }
      last = m.index + m[0].length;
    }
    if (last < text.length) parent.append(text.slice(last));
  };

  // ---- build the widget -----------------------------------------------------

  const launcher = el(
    "button",
    { type: "button", class: "awhina-launcher", "aria-expanded": "false", "aria-controls": "awhina-panel" },
    el("span", { class: "awhina-launcher-label", text: label("launcher") }),
  );
  const unread = el("span", { class: "awhina-unread", hidden: true });
  launcher.append(unread);

  const exitButton = el("button", { type: "button", class: "awhina-exit", text: label("quickExit") });
  const closeButton = el("button", { type: "button", class: "awhina-close", "aria-label": label("close") });
  closeButton.append(el("span", { "aria-hidden": "true", text: "×" }));
  const log = el("ol", { class: "awhina-log", "aria-live": "polite", "aria-label": label("log"), tabindex: "0" });
  const typing = el("p", { class: "awhina-typing", role: "status", hidden: true }, label("typing"));
  const status = el("p", { class: "awhina-status", role: "status" });
  const input = el("textarea", {
    id: "awhina-input",
    class: "awhina-input",
    rows: "1",
    maxlength: String(config.maxLength),
    autocomplete: "off",
    "aria-describedby": "awhina-counter",
    enterkeyhint: "send",
  });
  const counter = el("span", { id: "awhina-counter", class: "awhina-counter" });
  const sendButton = el("button", { type: "submit", class: "awhina-send", text: label("send") });
  const form = el(
    "form",
    { class: "awhina-form" },
    el("label", { for: "awhina-input", class: "awhina-sr", text: label("message") }),
    el("div", { class: "awhina-compose" }, input, sendButton),
  );
  const clearButton = el("button", { type: "button", class: "awhina-clear", text: label("clear") });
  const clearYes = el("button", { type: "button", class: "awhina-clear-yes", text: label("clearYes") });
  const clearNo = el("button", { type: "button", class: "awhina-clear-no", text: label("clearNo") });
  const confirmBox = el(
    "div",
    { class: "awhina-confirm", role: "group", "aria-labelledby": "awhina-confirm-q", hidden: true },
    el("p", { id: "awhina-confirm-q", text: label("clearQuestion") }),
    el("div", { class: "awhina-confirm-actions" }, clearYes, clearNo),
  );
  const panel = el(
    "section",
    { id: "awhina-panel", class: "awhina-panel", role: "dialog", "aria-labelledby": "awhina-title", hidden: true },
    el(
      "div",
      { class: "awhina-header" },
      el("h2", { id: "awhina-title", class: "awhina-title", text: config.title }),
      exitButton,
      closeButton,
    ),
    el("p", { class: "awhina-note", text: label("note") }),
    log,
    typing,
    status,
    form,
    el("div", { class: "awhina-footer" }, counter, clearButton),
    confirmBox,
  );
  const root = el("div", { class: "awhina", lang: language === "mi" ? "mi" : "en-NZ" }, panel, launcher);

  // ---- colours: applied only when text on them stays readable (WCAG AA) ----

  const probe = el("span", { hidden: true });
  const rgb = (colour) => {
    probe.style.color = "";
    probe.style.color = colour;
    if (!probe.style.color) return null;
    const m = getComputedStyle(probe).color.match(/\d+(\.\d+)?/g);
    return m ? m.slice(0, 3).map(Number) : null;
  };
  const luminance = ([r, g, b]) => {
    const lin = (c) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const contrast = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const applyColours = () => {
    const { primary, onPrimary = "#ffffff" } = config.colours;
    if (typeof primary !== "string") return;
    document.body.append(probe); // computed styles need an element in the document
    const p = rgb(primary);
    const t = rgb(onPrimary);
    const white = [255, 255, 255];
    probe.remove();
    if (!p || !t || contrast(p, t) < MIN_CONTRAST || contrast(p, white) < MIN_CONTRAST) {
      console.warn("Āwhina widget: colours ignored, text on them would not meet WCAG AA contrast");
      return;
    }
    root.style.setProperty("--awhina-primary", primary);
    root.style.setProperty("--awhina-on-primary", onPrimary);
  };

  // ---- conversation state ---------------------------------------------------

  let socket = null;
  let confirmed = false; // the server confirmed sessionId on this connection
  let shown = 0; // conversation items on screen (as counted by the history API)
  let syncing = false;
  let resync = false; // another sync was asked for while one was running
  let retryTimer = null;
  let retries = 0;
  let queued = []; // live messages that arrived while the history was loading
  let outbox = []; // messages typed before the session was confirmed
  let unreadCount = 0;
  let typingTimer = null;

  const isOpen = () => !panel.hidden;
  const scrollToEnd = () => {
    log.scrollTop = log.scrollHeight;
  };

  const setTyping = (on) => {
    typing.hidden = !on;
    clearTimeout(typingTimer);
    if (on) typingTimer = setTimeout(() => setTyping(false), TYPING_TIMEOUT_MS);
  };

  const setUnread = (n) => {
    unreadCount = n;
    unread.hidden = n === 0;
    unread.textContent = n ? label("unread", n) : "";
  };

  const buttonsOf = (msg) => {
    const list = Array.isArray(msg.buttons) ? msg.buttons : Array.isArray(msg.quick_replies) ? msg.quick_replies : [];
    return list.filter((b) => b && typeof b.title === "string" && typeof b.payload === "string");
  };
  const imageOf = (msg) => {
    if (typeof msg.image === "string") return msg.image;
    const a = msg.attachment;
    if (a && a.type === "image" && a.payload && typeof a.payload.src === "string") return a.payload.src;
    return null;
  };

  /** One message on screen; returns false when there was nothing to show. */
  const render = (sender, msg, extraClass = "") => {
    const text = typeof msg.text === "string" ? msg.text : "";
    const image = sender === "bot" ? imageOf(msg) : null;
    const buttons = sender === "bot" ? buttonsOf(msg) : [];
    if (!text && !image && !buttons.length) return false;
    const item = el("li", { class: `awhina-msg awhina-${sender} ${extraClass}`.trim() });
    item.append(srOnly(`${label(sender === "bot" ? "bot" : "you")} `));
    if (text) {
      const body = el("span", { class: "awhina-text" });
      renderInline(text, body);
      item.append(body);
    }
    if (image) {
      const src = httpUrl(image, null);
      if (src) item.append(el("img", { class: "awhina-image", src, alt: label("image"), loading: "lazy" }));
    }
    if (buttons.length) {
      const group = el("div", { class: "awhina-buttons", role: "group", "aria-label": text ? null : label("bot") });
      for (const b of buttons) {
        const button = el("button", { type: "button", class: "awhina-reply", text: b.title });
        button.addEventListener("click", () => {
          for (const other of group.querySelectorAll("button")) other.disabled = true;
          button.classList.add("awhina-chosen");
          send(b.payload, b.title);
          input.focus();
        });
        group.append(button);
      }
      item.append(group);
    }
    log.append(item);
    scrollToEnd();
    return true;
  };

  const sameMessage = (a, b) =>
    a.sender === b.sender && (a.text || "") === (b.text || "") && imageOf(a) === imageOf(b);

  const receive = (msg) => {
    if (!msg || typeof msg !== "object") return;
    if (syncing) {
      queued.push(msg);
      return;
    }
    setTyping(false);
    if (render("bot", msg)) {
      shown += 1;
      if (!isOpen()) setUnread(unreadCount + 1);
    }
  };

  const showGreeting = () => {
    if (config.greeting) render("bot", { text: config.greeting }, "awhina-greeting");
  };

  const resetLog = () => {
    log.replaceChildren();
    shown = 0;
    showGreeting();
  };

  /** The conversation's messages from our server, or null when they could not be had. */
  const fetchHistory = async (id) => {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), HISTORY_TIMEOUT_MS);
    try {
      const response = await fetch(config.historyUrl + id, {
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
        signal: abort.signal,
      });
      const data = response.ok ? await response.json() : null;
      return data && Array.isArray(data.messages) ? data.messages : null;
    } catch (e) {
      return null;
    } finally {
      clearTimeout(timer);
    }
  };

  /**
   * Adds what the server has that is not on screen yet (after a reload or reconnect).
   * A sync asked for while one runs follows it; one that fails is tried again while
   * connected, so a message said during a dropped connection is never left unshown.
   */
  const syncHistory = async () => {
    const id = sessionId;
    if (!id) return;
    if (syncing) {
      resync = true;
      return;
    }
    syncing = true;
    resync = false;
    clearTimeout(retryTimer);
    queued = [];
    const before = shown;
    const messages = await fetchHistory(id);
    syncing = false;
    if (id !== sessionId) return; // cleared meanwhile
    if (messages === null) {
      status.textContent = label("historyFailed");
      const delay = HISTORY_RETRY_MS[Math.min(retries, HISTORY_RETRY_MS.length - 1)];
      retries += 1;
      retryTimer = setTimeout(() => {
        if (socket && socket.connected) syncHistory();
      }, delay);
    } else {
      retries = 0;
      if (status.textContent === label("historyFailed")) status.textContent = "";
      if (messages.length > before) {
        log.setAttribute("aria-busy", "true");
        for (const m of messages.slice(before)) {
          if (m && (m.sender === "user" || m.sender === "bot") && render(m.sender, m)) shown += 1;
        }
        log.removeAttribute("aria-busy");
      }
    }
    // Live messages that came in meanwhile: skip those the history already had.
    let from = before;
    for (const msg of queued) {
      const at = messages ? messages.findIndex((m, i) => i >= from && sameMessage(m, { sender: "bot", ...msg })) : -1;
      if (at >= 0) from = at + 1;
      else receive(msg);
    }
    queued = [];
    if (resync) syncHistory();
  };

  // ---- the socket ----------------------------------------------------------

  const connect = () => {
    if (socket) return;
    status.textContent = label("connecting");
    socket = io(config.serverUrl, { path: config.socketPath, withCredentials: false });
    socket.on("connect", () => {
      confirmed = false;
      socket.emit("session_request", { session_id: sessionId });
    });
    socket.on("session_confirm", (id) => {
      if (typeof id !== "string" || !SESSION_ID.test(id)) return;
      if (sessionId && id !== sessionId) resetLog(); // the stored id was refused: start afresh
      sessionId = id;
      confirmed = true;
      store(window.localStorage, SESSION_KEY, id);
      if (status.textContent === label("connecting") || status.textContent === label("reconnecting")) {
        status.textContent = "";
      }
      for (const message of outbox.splice(0)) emit(message);
      syncHistory();
    });
    socket.on("bot_uttered", receive);
    socket.on("disconnect", (reason) => {
      confirmed = false;
      status.textContent = label("reconnecting");
      if (reason === "io server disconnect") socket.connect(); // the client only retries by itself otherwise
    });
    socket.on("connect_error", () => {
      status.textContent = label("reconnecting");
    });
  };

  const emit = (message) => {
    socket.emit("user_uttered", { message, session_id: sessionId });
    setTyping(true);
  };

  /** Sends a message (or a button's payload) and shows what the person chose. */
  const send = (message, shownText = message) => {
    if (!message.trim()) return;
    if (render("user", { text: shownText })) shown += 1;
    if (confirmed && socket && socket.connected) emit(message);
    else {
      outbox.push(message);
      connect();
    }
  };

  // ---- open, close, exit, clear --------------------------------------------

  const open = (focus = true) => {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    root.classList.add("awhina-open");
    store(window.sessionStorage, OPEN_KEY, "1");
    setUnread(0);
    connect();
    scrollToEnd();
    if (focus) input.focus();
  };

  const close = () => {
    panel.hidden = true;
    confirmBox.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    root.classList.remove("awhina-open");
    store(window.sessionStorage, OPEN_KEY, null);
    launcher.focus();
  };

  const quickExit = () => {
    document.documentElement.classList.add("awhina-leaving");
    window.location.replace(config.exitUrl);
  };

  const clearChat = () => {
    store(window.localStorage, SESSION_KEY, null);
    sessionId = null;
    confirmed = false;
    outbox = [];
    queued = [];
    clearTimeout(retryTimer);
    retries = 0;
    setTyping(false);
    resetLog();
    confirmBox.hidden = true;
    status.textContent = label("cleared");
    if (socket && socket.connected) socket.emit("session_request", { session_id: null });
    input.focus();
  };

  // ---- events ----------------------------------------------------------------

  const updateCounter = () => {
    const n = input.value.length;
    counter.textContent = label("counter", n, config.maxLength);
    counter.classList.toggle("awhina-counter-near", n >= config.maxLength * 0.9);
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 120)}px`;
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (text.length > config.maxLength) {
      status.textContent = label("tooLong", config.maxLength);
      return;
    }
    input.value = "";
    updateCounter();
    send(text);
  });
  input.addEventListener("input", updateCounter);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  launcher.addEventListener("click", () => (isOpen() ? close() : open()));
  closeButton.addEventListener("click", close);
  exitButton.addEventListener("click", quickExit);
  clearButton.addEventListener("click", () => {
    confirmBox.hidden = false;
    clearNo.focus();
  });
  clearNo.addEventListener("click", () => {
    confirmBox.hidden = true;
    clearButton.focus();
  });
  clearYes.addEventListener("click", clearChat);
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    if (event.shiftKey) {
      event.preventDefault();
      quickExit();
    } else if (isOpen() && (panel.contains(document.activeElement) || document.activeElement === launcher)) {
      event.preventDefault();
      if (!confirmBox.hidden) clearNo.click();
      else close();
    }
  });

  // ---- start -------------------------------------------------------------------

  const start = () => {
    applyColours();
    resetLog();
    updateCounter();
    document.body.append(root);
    // A returning conversation reconnects at once so replies pushed meanwhile show.
    if (sessionId) connect();
    if (read(window.sessionStorage, OPEN_KEY)) open(false);
  };
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
