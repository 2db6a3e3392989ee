"""The turn guard every channel sends messages through: never silent, never a flood."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from types import SimpleNamespace

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.channels import guard
from bot.channels.guard import LOG_MARKER, MAX_MESSAGES_PER_TURN, SAFE_REPLY, guarded
from bot.dialogue import NAVIGATOR_LIVE_SLOT

SENDER = "+64211234567"
DOMAIN = f"""
version: "3.1"
slots:
  {NAVIGATOR_LIVE_SLOT}:
    type: bool
    mappings: [{{type: custom}}]
"""


def turn(
    text: str, bot: Callable[[UserMessage], Awaitable[None]]
) -> tuple[list[str], CollectingOutputChannel]:
    collector = CollectingOutputChannel()
    asyncio.run(guarded(bot)(UserMessage(text, collector, SENDER)))
    return [m.get("text") or "" for m in collector.messages], collector


def says(*texts: str) -> Callable[[UserMessage], Awaitable[None]]:
    async def bot(message: UserMessage) -> None:
        for text in texts:
            await message.output_channel.send_response(message.sender_id, {"text": text})

    return bot


def test_an_ordinary_turn_passes_through_unchanged(caplog):
    with caplog.at_level(logging.WARNING):
        texts, _ = turn("kia ora", says("Kia ora", "What's going on?"))
    assert texts == ["Kia ora", "What's going on?"]
    assert LOG_MARKER not in caplog.text


def test_buttons_reach_the_channel():
    async def bot(message: UserMessage) -> None:
        await message.output_channel.send_response(
            message.sender_id, {"text": "Which?", "buttons": [{"title": "A", "payload": "/a"}]}
        )

    _, collector = turn("hi", bot)
    assert collector.messages[0]["buttons"] == [{"title": "A", "payload": "/a"}]


def test_a_silent_turn_gets_the_safe_reply_and_a_log_without_the_text(caplog):
    with caplog.at_level(logging.WARNING):
        texts, _ = turn("my secret name is Aroha", says())
    assert texts == [SAFE_REPLY]
    assert "111" in SAFE_REPLY and "1737" in SAFE_REPLY
    assert "no reply" in caplog.text
    assert "Aroha" not in caplog.text and SENDER not in caplog.text


def test_a_failing_turn_gets_the_safe_reply_and_the_log_does_not_quote_it(caplog):
    async def bot(message: UserMessage) -> None:
        raise RuntimeError(f"could not handle {message.text}")

    with caplog.at_level(logging.INFO):
        texts, _ = turn("call me on 021 555 0199", bot)
    assert texts == [SAFE_REPLY]
    assert "RuntimeError" in caplog.text
    assert "021 555 0199" not in caplog.text and SENDER not in caplog.text


def test_repeats_are_dropped_and_a_turn_stops_at_the_limit(caplog):
    many = [f"message {i}" for i in range(MAX_MESSAGES_PER_TURN + 3)]
    with caplog.at_level(logging.WARNING):
        texts, _ = turn("hi", says("Sorry?", "Sorry?", "Sorry?", *many))
    assert texts == ["Sorry?", *many[: MAX_MESSAGES_PER_TURN - 1]]
    assert "repeated" in caplog.text and "over the limit" in caplog.text


@pytest.mark.parametrize("text", ["i want to kill myself", "my mate od'd hes not breathing"])
def test_a_crisis_without_111_in_the_replies_gets_the_safe_reply(text, caplog):
    with caplog.at_level(logging.WARNING):
        texts, _ = turn(text, says("Sorry, I didn't quite get that."))
    assert texts == ["Sorry, I didn't quite get that.", SAFE_REPLY]
    assert "crisis went unanswered" in caplog.text


def test_a_crisis_that_was_answered_is_left_alone():
    answer = "If you or someone else is in danger right now, call 111."
    texts, _ = turn("i want to kill myself", says(answer))
    assert texts == [answer]


def test_the_limit_counts_paragraphs_as_the_channel_delivers_them():
    services = "1. One\n\n2. Two\n\n3. Three"
    texts, collector = turn("kai", says("Here are services:", services, "Say more", "a", "b"))
    assert texts == ["Here are services:", "1. One", "2. Two", "3. Three", "Say more", "a"]
    assert len(collector.messages) == MAX_MESSAGES_PER_TURN


def test_a_quiet_turn_while_a_navigator_is_live_gets_no_safe_reply(monkeypatch):
    store = InMemoryTrackerStore(Domain.from_yaml(DOMAIN))
    live = DialogueStateTracker.from_events(SENDER, [SlotSet(NAVIGATOR_LIVE_SLOT, True)])
    asyncio.run(store.save(live))
    monkeypatch.setattr(guard, "_agent", lambda: SimpleNamespace(tracker_store=store))
    texts, _ = turn("thanks, talk soon", says())
    assert texts == []
    other = "+64219999999"
    collector = CollectingOutputChannel()
    asyncio.run(guard.guarded(says())(UserMessage("hi", collector, other)))
    assert [m["text"] for m in collector.messages] == [SAFE_REPLY]  # not live: safe reply
