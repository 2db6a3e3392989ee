"""End to end: a navigator's live chat through the inbox's Rasa client against the real Rasa.

The navigator joins (the bot goes quiet), writes, the person answers (no bot
reply, but a crisis message still gets the crisis answer), and the navigator
hands back (the bot resumes and says so).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiohttp import ClientSession

from bot.navigator.rasa_client import RasaClient
from tests.e2e.conftest import TOKEN

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
