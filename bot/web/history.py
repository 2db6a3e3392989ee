"""A conversation's history for the widget, read from Rasa's tracker.

Only what the person saw is returned: their messages and the bot's texts,
buttons and images, cut into the same pieces Rasa's socket.io channel sends live
(``rasa/core/channels/socketio.py``: text split on blank lines, buttons on the
last piece, the image after the text), so the widget renders both the same way.
A button click is stored by Rasa as its payload (``/need_housing``); it is shown
with the button's title, as it was when clicked.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MAX_MESSAGES = 500


def _buttons(data: dict[str, Any]) -> list[dict[str, str]]:
    raw = data.get("quick_replies") or data.get("buttons") or []
    if not isinstance(raw, list):
        return []
    return [
        {"title": b["title"], "payload": b["payload"]}
        for b in raw
        if isinstance(b, dict)
        and isinstance(b.get("title"), str)
        and isinstance(b.get("payload"), str)
    ]


def _image(data: dict[str, Any]) -> str | None:
    if isinstance(data.get("image"), str):
        return data["image"]
    attachment = data.get("attachment")
    if isinstance(attachment, dict) and attachment.get("type") == "image":
        payload = attachment.get("payload")
        if isinstance(payload, dict) and isinstance(payload.get("src"), str):
            return payload["src"]
    return None


def bot_messages(event: dict[str, Any]) -> list[dict[str, Any]]:
    """One bot event as the pieces the socket.io channel would have sent."""
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    text = event.get("text") if isinstance(event.get("text"), str) else ""
    buttons = _buttons(data)
    pieces: list[dict[str, Any]] = []
    if text or buttons:
        pieces = [{"sender": "bot", "text": part} for part in text.strip().split("\n\n")]
        if buttons:
            pieces[-1]["buttons"] = buttons
    image = _image(data)
    if image:
        pieces.append({"sender": "bot", "image": image})
    return pieces


def transcript(events: Iterable[Any]) -> list[dict[str, Any]]:
    """The person's and the bot's messages, oldest first (at most the last ``MAX_MESSAGES``)."""
    messages: list[dict[str, Any]] = []
    titles: dict[str, str] = {}
    for event in events:
        if not isinstance(event, dict):
            continue
        if event.get("event") == "user":
            text = event.get("text")
            if isinstance(text, str) and text.strip():
                messages.append({"sender": "user", "text": titles.get(text, text)})
        elif event.get("event") == "bot":
            pieces = bot_messages(event)
            for piece in pieces:
                titles.update({b["payload"]: b["title"] for b in piece.get("buttons", [])})
            messages.extend(pieces)
    return messages[-MAX_MESSAGES:]
