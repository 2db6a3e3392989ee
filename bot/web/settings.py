"""Settings of the web app (demo page, widget assets, history API), read from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.channels.limits import MAX_MESSAGE_CHARS
from bot.channels.widget import parse_origins
from bot.config import rasa_url

DEFAULT_EXIT_URL = "https://www.google.com/search?q=weather"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"Not an http(s) URL: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class Settings:
    # Where this app reaches Rasa's HTTP API (server side, loopback by default).
    rasa_url: str
    # Rasa's API token, for reading conversation history; None disables /api/history.
    rasa_token: str | None
    # Where browsers reach Rasa's socket.io channel (differs from rasa_url behind a proxy).
    widget_server_url: str
    widget_socket_path: str = "/socket.io/"
    # Pages (besides our own) allowed to embed the widget: may call /api/history.
    allowed_origins: tuple[str, ...] = ()
    # Where "Quick exit" goes on our demo page.
    exit_url: str = DEFAULT_EXIT_URL
    max_message_chars: int = MAX_MESSAGE_CHARS
    rasa_timeout_seconds: float = 10.0

    @classmethod
    def from_env(cls) -> Settings:
        server = rasa_url()
        return cls(
            rasa_url=server,
            rasa_token=os.environ.get("RASA_TOKEN") or None,
            widget_server_url=os.environ.get("WIDGET_SERVER_URL") or server,
            widget_socket_path=os.environ.get("WIDGET_SOCKET_PATH") or "/socket.io/",
            allowed_origins=tuple(parse_origins(os.environ.get("WIDGET_ALLOWED_ORIGINS"))),
            exit_url=os.environ.get("WIDGET_EXIT_URL") or DEFAULT_EXIT_URL,
        )

    def __post_init__(self) -> None:
        _origin(self.widget_server_url)
        _origin(self.exit_url)

    @property
    def socket_origins(self) -> tuple[str, ...]:
        """The Rasa origin as the browser connects to it: HTTP polling and WebSocket."""
        origin = _origin(self.widget_server_url)
        ws = origin.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        return (origin, ws)
