"""Our socket.io channel (bot/channels/socketio.py) inside the real Rasa server, spoken to directly.

No browser here: python-socketio's client over HTTP long-polling (its WebSocket
transport would need another package), with the ``Origin`` header a browser sends.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
import requests
import socketio

from tests.browser.conftest import TOKEN, WidgetSite

pytestmark = pytest.mark.e2e


Client = socketio.SimpleClient


def connect(site: WidgetSite, origin: str) -> Client:
    client = Client()
    client.connect(
        site.stack.rasa_url, headers={"Origin": origin}, transports=["polling"], wait_timeout=15
    )
    return client


def chat(site: WidgetSite, origin: str, talk: Callable[[Client], None]) -> None:
    """Runs ``talk`` on a fresh connection from ``origin``."""
    client = connect(site, origin)
    try:
        talk(client)
    finally:
        # Without abort the client waits for the server to end its long poll (~25 s).
        client.client.eio.disconnect(abort=True)


def start_session(client: Client, session_id: object = None) -> str:
    client.emit("session_request", {"session_id": session_id})
    event, confirmed = client.receive(timeout=15)
    assert event == "session_confirm"
    return confirmed


def replies(client: Client, wait: float = 30) -> list[dict]:
    """Every bot message until none has come for a couple of seconds."""
    got = []
    try:
        while True:
            event, message = client.receive(timeout=wait if not got else 2)
            assert event == "bot_uttered"
            got.append(message)
    except socketio.exceptions.TimeoutError:
        return got


def user_texts(site: WidgetSite, session_id: str) -> list[str]:
    tracker = requests.get(
        f"{site.stack.rasa_url}/conversations/{session_id}/tracker",
        params={"token": TOKEN},
        timeout=30,
    ).json()
    return [e["text"] for e in tracker["events"] if e["event"] == "user"]


def test_other_origins_cannot_connect(widget_site: WidgetSite):
    with pytest.raises(socketio.exceptions.ConnectionError):
        connect(widget_site, "https://evil.example")


def test_a_conversation_continues_on_a_new_connection(widget_site: WidgetSite):
    started: list[str] = []

    def first(client: Client) -> None:
        session_id = start_session(client)
        assert len(session_id) == 32 and int(session_id, 16) >= 0
        client.emit("user_uttered", {"message": "kia ora", "session_id": session_id})
        assert any("Āwhina" in r.get("text", "") for r in replies(client))
        started.append(session_id)

    def second(client: Client) -> None:
        assert start_session(client, started[0]) == started[0]
        client.emit("user_uttered", {"message": "what can you do?", "session_id": started[0]})
        answer = replies(client)
        assert any(r.get("quick_replies") for r in answer), answer

    chat(widget_site, widget_site.url, first)
    chat(widget_site, widget_site.url, second)
    assert user_texts(widget_site, started[0]) == ["kia ora", "what can you do?"]


BAD_IDS = ["", "abc", "A" * 32, "g" * 32, "0" * 33, "../../etc/passwd", 42, ["x"], {"a": 1}]


def test_a_malformed_session_id_gets_a_fresh_one(widget_site: WidgetSite):
    def talk(client: Client) -> None:
        for bad_id in BAD_IDS:
            confirmed = start_session(client, bad_id)
            assert confirmed != bad_id
            assert len(confirmed) == 32 and confirmed == confirmed.lower()
            int(confirmed, 16)

    chat(widget_site, widget_site.url, talk)


def test_too_long_message_gets_a_reply_and_is_not_passed_on(widget_site: WidgetSite):
    sessions: list[str] = []

    def talk(client: Client) -> None:
        session_id = start_session(client)
        sessions.append(session_id)
        client.emit("user_uttered", {"message": "ā" * 1001, "session_id": session_id})
        assert [r["text"] for r in replies(client, wait=15)] == [
            "Sorry, that message is too long for me. Please keep each message to 1,000 "
            "characters or fewer: you can send it in a few parts."
        ]
        client.emit("user_uttered", {"message": "ā" * 1000, "session_id": session_id})
        assert replies(client), "a message at the limit is answered"

    chat(widget_site, widget_site.url, talk)
    assert user_texts(widget_site, sessions[0]) == ["ā" * 1000]


def test_a_socket_cannot_speak_in_a_session_it_did_not_ask_for(widget_site: WidgetSite):
    other = uuid.uuid4().hex

    def talk(client: Client) -> None:
        start_session(client)
        client.emit("user_uttered", {"message": "kia ora", "session_id": other})
        assert replies(client, wait=5) == []

    chat(widget_site, widget_site.url, talk)
    assert user_texts(widget_site, other) == []


MALFORMED = [None, "kia ora", 5, ["kia ora"], {"message": 5}, {"message": ["x"]}, {"message": " "}]


def test_malformed_messages_are_ignored(widget_site: WidgetSite):
    sessions: list[str] = []

    def talk(client: Client) -> None:
        session_id = start_session(client)
        sessions.append(session_id)
        for payload in MALFORMED:
            if isinstance(payload, dict):
                payload = {**payload, "session_id": session_id}
            client.emit("user_uttered", payload)
        assert replies(client, wait=3) == []
        client.emit("user_uttered", {"message": "kia ora\x00\x07", "session_id": session_id})
        assert replies(client), "the connection still works"

    chat(widget_site, widget_site.url, talk)
    assert user_texts(widget_site, sessions[0]) == ["kia ora"]
