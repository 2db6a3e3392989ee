"""End to end: a chat becomes a request in the inbox API; a navigator claims it and replies."""

from __future__ import annotations

import uuid

import pytest
import requests
from sqlalchemy import select

from bot.db import session_scope
from bot.handoff.models import HandoffRequest
from tests.e2e.conftest import TOKEN

pytestmark = pytest.mark.e2e


def api(stack, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {stack.api_token}"}
    return requests.request(
        method, f"{stack.inbox_url}/api{path}", headers=headers, timeout=60, **kwargs
    )


def request_id_of(stack, sender: str) -> str:
    """The request's id: the API never shows the conversation id, the person's own key."""
    with session_scope(stack.db_url) as session:
        return session.execute(
            select(HandoffRequest.id).where(HandoffRequest.conversation_id == sender)
        ).scalar_one()


def bot_texts(stack, sender: str) -> list[str]:
    tracker = requests.get(
        f"{stack.rasa_url}/conversations/{sender}/tracker", params={"token": TOKEN}, timeout=30
    ).json()
    return [e.get("text") or "" for e in tracker["events"] if e.get("event") == "bot"]


def test_a_chat_handoff_reaches_the_navigator_who_claims_it_and_replies(stack):
    sender = uuid.uuid4().hex
    stack.texts(sender, "my daughter is using meth, we're in Greymouth")
    for message in ("can i talk to someone", "yes", "Aroha", "keep chatting here"):
        stack.texts(sender, message)
    stack.texts(sender, "for me")
    stack.texts(sender, "yes")

    listed = api(stack, "GET", "/requests", params={"status": "new"}).json()
    [mine] = [r for r in listed["requests"] if r["id"] == request_id_of(stack, sender)]
    assert mine["preferred_name"] == "Aroha" and mine["contact_method"] == "chat"
    assert sender not in str(listed)

    assert api(stack, "POST", f"/requests/{mine['id']}/claim").status_code == 200
    assert any("Mere from" in t and "has your request" in t for t in bot_texts(stack, sender))
    assert api(stack, "POST", f"/requests/{mine['id']}/live/start").status_code == 200
    sent = api(stack, "POST", f"/requests/{mine['id']}/messages", json={"text": "Kia ora Aroha"})
    assert sent.status_code == 201
    assert "Mere: Kia ora Aroha" in bot_texts(stack, sender)
    assert stack.chat(sender, "kia ora Mere, thank you") == []  # the bot stays quiet

    transcript = api(stack, "GET", f"/requests/{mine['id']}/transcript").json()
    assert "kia ora Mere, thank you" in str(transcript)
    assert api(stack, "POST", f"/requests/{mine['id']}/live/end").status_code == 200
    assert any("back with Āwhina" in t for t in bot_texts(stack, sender))
    assert api(stack, "POST", f"/requests/{mine['id']}/in-contact").status_code == 200
    closed = api(stack, "POST", f"/requests/{mine['id']}/close", json={"outcome": "connected"})
    assert closed.status_code == 200


def test_another_organisations_request_is_not_found(stack):
    sender = uuid.uuid4().hex
    for message in ("can someone call me", "yes", "skip", "call me", "021 444 5555", "any time"):
        stack.texts(sender, message)
    for message in ("Westport", "for me", "yes"):
        stack.texts(sender, message)
    listed = api(stack, "GET", "/requests").json()
    assert sender not in str(listed)  # routed to the West Coast team, not Mere's Grey team
