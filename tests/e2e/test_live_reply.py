"""End to end: a navigator's live chat through the inbox's Rasa client against the real Rasa.

The navigator joins (the bot goes quiet), writes, the person answers (no bot
reply, but a crisis message still gets the crisis answer), and the navigator
hands back (the bot resumes and says so). "Delete my data" mid-chat is honoured.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

import pytest
from aiohttp import ClientSession
from sqlalchemy import select

from bot.db import session_scope
from bot.handoff import service
from bot.handoff.models import HandoffRequest, Navigator
from bot.navigator.rasa_client import RasaClient
from tests.e2e.conftest import NAVIGATOR_EMAIL, TOKEN
from tests.handoff.conftest import DRAFT

pytestmark = pytest.mark.e2e


async def _navigator(stack, conversation: str, steps: list[tuple[str, dict | None]]) -> list:
    async with ClientSession() as http:
        rasa = RasaClient(http, stack.rasa_url, TOKEN, timeout=60)
        for action, slots in steps:
            if action == "pause":
                await rasa.pause(conversation)
            elif action == "resume":
                await rasa.resume(conversation)
            else:
                await rasa.set_slots(conversation, slots or {})
                await rasa.execute(conversation, action)
        return await rasa.tracker_events(conversation)


def test_a_navigator_chats_live_and_the_bot_stays_quiet_except_for_a_crisis(stack):
    person = uuid.uuid4().hex
    stack.texts(person, "kia ora")
    who = {"navigator_name": "Mere", "navigator_org": "Poutini Waiora"}
    events = asyncio.run(
        _navigator(
            stack,
            person,
            [
                ("action_handoff_claimed", who),
                ("pause", None),
                ("action_navigator_joined", who),
                ("action_navigator_message", {**who, "navigator_message": "Kia ora, Mere here."}),
            ],
        )
    )
    said = [e.get("text") or "" for e in events if e.get("event") == "bot"]
    assert "Mere from Poutini Waiora has your request and will be in touch." in said
    assert "Mere: Kia ora, Mere here." in said

    assert stack.chat(person, "thanks Mere, my son needs help with meth") == []
    assert stack.chat(person, "we're in Greymouth") == []
    crisis = stack.texts(person, "he's got a knife and says he'll kill us")
    assert "111" in crisis

    events = asyncio.run(
        _navigator(stack, person, [("resume", None), ("action_navigator_left", who)])
    )
    assert any("back with Āwhina" in (e.get("text") or "") for e in events)
    assert "Kia ora" in stack.texts(person, "kia ora")


def test_delete_my_data_during_a_live_chat_is_honoured_and_ends_it(stack):
    """The person's wish beats the quiet: everything goes, and the navigator sees why."""
    person = uuid.uuid4().hex
    stack.texts(person, "kia ora")
    draft = replace(DRAFT, conversation_id=person, contact_method="chat", contact_detail=None)
    with session_scope(stack.db_url) as session:
        mere = session.execute(
            select(Navigator).where(Navigator.email == NAVIGATOR_EMAIL)
        ).scalar_one()
        request_id = service.submit(session, draft, f"{person}:live").id
        service.claim(session, mere, request_id)
        service.start_live(session, mere, request_id)
        service.add_note(session, mere, request_id, "Aroha's partner is using again")
    asyncio.run(_navigator(stack, person, [("pause", None)]))
    assert stack.chat(person, "thanks, all good") == []  # quiet while the navigator is there
    assert "deleted this conversation" in stack.texts(person, "delete my data")
    with session_scope(stack.db_url) as session:
        request = session.get(HandoffRequest, request_id)
        assert (request.preferred_name, request.live_since, request.content_key) == (
            None,
            None,
            None,
        )
        kinds = [e.kind for e in service.events(session, mere, request_id)]
    assert kinds[-1] == "forgotten"
    assert "Kia ora" in stack.texts(person, "kia ora")  # the bot is back on
