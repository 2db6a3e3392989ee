"""What the website widget's channel and the web app agree on: session ids and allowed origins.

The socket.io channel (``bot.channels.socketio``) checks them on every socket;
the web app (``bot.web``) checks the same session ids for the history API and
reads the same origins from its settings. They live here, below both, so the
channel does not import the web app.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.config import env_int

SESSION_ID = re.compile(r"[0-9a-f]{32}")
ORIGIN = re.compile(r"https?://[^/\s?#@]+")


def is_session_id(value: object) -> bool:
    """Rasa's socket.io session ids are ``uuid4().hex``: 32 lowercase hex characters."""
    return isinstance(value, str) and SESSION_ID.fullmatch(value) is not None


def default_origins() -> list[str]:
    """The web app's own origin (``WEB_PORT``, default 8000) as browsers may spell it."""
    port = env_int("WEB_PORT", 8000)
    return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]


def parse_origins(value: str | Iterable[str] | None) -> list[str]:
    """Origins from a comma-separated string or a list; ``[]`` when unset.

    Each must be a bare origin (``https://host[:port]``, no path): browsers send
    exactly that in ``Origin`` and it is compared as a string.
    """
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    origins = []
    for item in items:
        origin = str(item).strip().rstrip("/")
        if not origin:
            continue
        if origin == "*":
            raise ValueError("'*' would let any website use the chat: list the origins instead")
        if not ORIGIN.fullmatch(origin):
            raise ValueError(f"Not an origin (scheme://host[:port]): {origin!r}")
        origins.append(origin)
    return origins
