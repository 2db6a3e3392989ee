"""How the widget's socket.io channel is configured (the live behaviour is in tests/browser)."""

from __future__ import annotations

import pytest

from bot.channels.socketio import SocketIOInput


async def _ignore(message) -> None:
    raise AssertionError("no message expected")


def test_origins_default_to_the_web_apps_own(monkeypatch):
    monkeypatch.delenv("WIDGET_ALLOWED_ORIGINS", raising=False)
    monkeypatch.setenv("WEB_PORT", "8123")
    channel = SocketIOInput.from_credentials({"session_persistence": True})
    assert channel.cors_allowed_origins == ["http://127.0.0.1:8123", "http://localhost:8123"]
    assert channel.name() == "socketio"
    assert channel.session_persistence is True
    assert channel.max_message_chars == 1000


def test_origins_from_the_environment_or_credentials(monkeypatch):
    monkeypatch.setenv("WIDGET_ALLOWED_ORIGINS", "https://a.example.org, https://b.example.org")
    assert SocketIOInput.from_credentials({}).cors_allowed_origins == [
        "https://a.example.org",
        "https://b.example.org",
    ]
    channel = SocketIOInput.from_credentials(
        {"cors_allowed_origins": ["https://c.example.org"], "max_message_chars": 200}
    )
    assert channel.cors_allowed_origins == ["https://c.example.org"]
    assert channel.max_message_chars == 200


@pytest.mark.parametrize("origins", ["*", "https://a.example.org,*", "a.example.org"])
def test_wildcards_and_non_origins_are_refused(monkeypatch, origins):
    monkeypatch.setenv("WIDGET_ALLOWED_ORIGINS", origins)
    with pytest.raises(ValueError):
        SocketIOInput.from_credentials({})


def test_a_limit_below_one_is_refused():
    with pytest.raises(ValueError):
        SocketIOInput.from_credentials({"max_message_chars": 0})


def test_the_server_checks_origins_and_uses_our_handlers():
    channel = SocketIOInput.from_credentials(
        {"cors_allowed_origins": "https://a.example.org", "session_persistence": True}
    )
    channel.blueprint(_ignore)
    # Rasa itself passes [] (no origin check at all); ours is the allow-list.
    assert channel.sio.eio.cors_allowed_origins == ["https://a.example.org"]
    handlers = channel.sio.handlers["/"]
    assert handlers["session_request"].__module__ == "bot.channels.socketio"
    assert handlers["user_uttered"].__module__ == "bot.channels.socketio"
