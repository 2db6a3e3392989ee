// Āwhina inbox: live updates (server-sent events), a short tone, and a mute toggle.
// No libraries and no requests to anything but this inbox.
"use strict";

(function () {
  const body = document.body;
  const banner = document.getElementById("live-banner");
  const muteButton = document.getElementById("mute");
  const MUTE_KEY = "awhina-inbox-muted";
  let audio = null;
  let unseen = 0;
  const baseTitle = document.title;

  function muted() {
    return window.localStorage.getItem(MUTE_KEY) === "1";
  }

  function showMute() {
    if (!muteButton) return;
    muteButton.hidden = false;
    muteButton.setAttribute("aria-pressed", muted() ? "true" : "false");
    muteButton.textContent = muted() ? "Sound off" : "Sound on";
  }

  // Browsers only let a page make sound after the person has used it once.
  function unlockAudio() {
    if (audio || !(window.AudioContext || window.webkitAudioContext)) return;
    audio = new (window.AudioContext || window.webkitAudioContext)();
  }

  function tone(high) {
    if (muted() || !audio) return;
    if (audio.state === "suspended") audio.resume();
    const now = audio.currentTime;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.setValueAtTime(high ? 880 : 660, now);
    osc.frequency.setValueAtTime(high ? 1175 : 880, now + 0.12);
    gain.gain.setValueAtTime(0.0001, now);
    gain.gain.exponentialRampToValueAtTime(0.2, now + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.35);
    osc.connect(gain).connect(audio.destination);
    osc.start(now);
    osc.stop(now + 0.4);
  }

  function announce(text) {
    if (!banner) return;
    banner.textContent = text;
    banner.hidden = false;
    unseen += 1;
    document.title = "(" + unseen + ") " + baseTitle;
  }

  function seen() {
    unseen = 0;
    document.title = baseTitle;
    if (banner) banner.hidden = true;
  }

  document.addEventListener("click", unlockAudio);
  document.addEventListener("keydown", unlockAudio);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) window.setTimeout(seen, 4000);
  });
  if (muteButton) {
    showMute();
    muteButton.addEventListener("click", function () {
      window.localStorage.setItem(MUTE_KEY, muted() ? "0" : "1");
      showMute();
    });
  }

  async function refreshList(newId) {
    const groups = document.getElementById("groups");
    if (!groups || !body.dataset.fragment) return;
    const response = await fetch(body.dataset.fragment, { credentials: "same-origin" });
    if (!response.ok) return;
    groups.innerHTML = await response.text();
    if (newId) {
      const card = groups.querySelector('[data-id="' + CSS.escape(newId) + '"]');
      if (card) card.classList.add("card-new-arrival");
    }
  }

  function onRequestEvent(event) {
    let data;
    try {
      data = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    const arrived = data.kind === "created" || data.kind === "escalated";
    if (arrived) {
      announce(data.urgent ? "New urgent request" : "New request");
      tone(Boolean(data.urgent));
    }
    if (data.kind === "reload") {
      refreshList(null);
      return;
    }
    refreshList(arrived ? data.id : null);
    if (body.dataset.requestId && data.id === body.dataset.requestId && !body.dataset.transcript) {
      const changed = document.getElementById("changed");
      if (changed) changed.hidden = false;
    }
  }

  if (body.dataset.live && window.EventSource) {
    const stream = new EventSource(body.dataset.live);
    stream.addEventListener("request", onRequestEvent);
    stream.addEventListener("end", function () {
      stream.close();
    });
  }

  function addTurn(turn) {
    const list = document.getElementById("transcript");
    if (!list) return;
    const item = document.createElement("li");
    item.className = "turn turn-" + (turn.actor === "user" ? "user" : "bot");
    if (turn.crisis) item.classList.add("turn-crisis");
    const who = document.createElement("span");
    who.className = "turn-who";
    who.textContent = turn.actor === "user" ? "Person" : "Āwhina";
    const when = document.createElement("time");
    when.dateTime = turn.at;
    when.textContent = " " + new Date(turn.at).toLocaleTimeString("en-NZ", { hour: "numeric", minute: "2-digit" });
    item.append(who, when);
    if (turn.crisis) {
      const badge = document.createElement("strong");
      badge.className = "badge badge-urgent";
      badge.textContent = "Crisis signs";
      item.append(" ", badge);
    }
    const text = document.createElement("p");
    text.textContent = turn.text;
    item.append(text);
    list.append(item);
    if (turn.actor === "user") {
      announce(turn.crisis ? "The person wrote: crisis signs" : "New message from the person");
      tone(Boolean(turn.crisis));
    }
  }

  if (body.dataset.transcript && window.EventSource) {
    const status = document.getElementById("transcript-status");
    const url = body.dataset.transcript + "?after=" + encodeURIComponent(body.dataset.after || "0");
    const stream = new EventSource(url);
    stream.addEventListener("turn", function (event) {
      try {
        addTurn(JSON.parse(event.data));
      } catch (e) {
        /* a malformed event is skipped */
      }
    });
    stream.addEventListener("notice", function (event) {
      if (!status) return;
      const message = JSON.parse(event.data).message;
      status.textContent = message;
      status.hidden = !message;
    });
    stream.addEventListener("end", function () {
      stream.close();
      const changed = document.getElementById("changed");
      if (changed) changed.hidden = false;
    });
  }
})();
