"""Bad input to the REST channel gets a clear 4xx or a short reply; the server keeps answering."""

from __future__ import annotations

import uuid

import pytest
import requests

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 400),
        (b"not json", 400),
        (b"\xff\xfe\x00binary", 400),
        (b"[1, 2, 3]", 400),
        (b'{"sender": "abc"}', 400),
        (b'{"sender": "abc", "message": 42}', 400),
        (b'{"sender": "abc", "message": "   "}', 400),
        (b'{"sender": {"$ne": 1}, "message": "hi"}', 400),
        (b'{"sender": "../../etc/passwd", "message": "hi"}', 400),
        (b'{"sender": "abc", "message": "hi", "metadata": "x"}', 400),
        (b'{"sender": "abc", "message": "' + b"a" * 70_000 + b'"}', 413),
    ],
)
def test_malformed_payloads_are_refused_clearly(stack, body, status):
    response = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", data=body, timeout=30)
    assert response.status_code == status
    assert response.json()["error"]


def test_a_message_over_the_limit_gets_a_short_reply_and_nothing_else(stack):
    sender = uuid.uuid4().hex
    replies = stack.chat(sender, "help " * 300)
    assert [r["text"] for r in replies] == [replies[0]["text"]]
    assert "too long" in replies[0]["text"]
    assert stack.chat(sender, "kia ora")  # the conversation carries on
