// Minimal chat page: posts to /chat (relayed to Rasa's REST channel) and shows replies.
(() => {
  const log = document.getElementById("log");
  const form = document.getElementById("send");
  const input = document.getElementById("text");
  let sender = localStorage.getItem("awhina-sender");
  if (!sender) {
    sender = crypto.randomUUID().replace(/-/g, "");
    localStorage.setItem("awhina-sender", sender);
  }

  function linkify(li, text) {
    const parts = text.split(/(https?:\/\/[^\s)]+)/g);
    parts.forEach((part, i) => {
      if (i % 2) {
        const a = document.createElement("a");
        a.href = part; a.textContent = part; a.rel = "noopener noreferrer"; a.target = "_blank";
        li.appendChild(a);
      } else {
        li.appendChild(document.createTextNode(part));
      }
    });
  }

  function add(who, text, buttons) {
    const li = document.createElement("li");
    li.className = who;
    linkify(li, text || "");
    if (buttons && buttons.length) {
      const box = document.createElement("div");
      box.className = "buttons";
      buttons.forEach((b) => {
        const btn = document.createElement("button");
        btn.type = "button"; btn.textContent = b.title;
        btn.addEventListener("click", () => send(b.payload, b.title));
        box.appendChild(btn);
      });
      li.appendChild(box);
    }
    log.appendChild(li);
    li.scrollIntoView({ block: "end" });
  }

  async function send(message, shown) {
    add("user", shown || message);
    try {
      const res = await fetch("/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender, message }),
      });
      const data = await res.json();
      (data.replies || []).forEach((r) => add("bot", r.text, r.buttons));
      if (data.error) add("bot", data.error);
    } catch (e) {
      add("bot", "Sorry, I can't reach the assistant. In an emergency call 111; call or text 1737 any time.");
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });
})();
