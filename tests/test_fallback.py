"""The fallback offers a person after two misunderstood messages in a row."""

from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionFallback


def user(intent: str) -> dict:
    return {"event": "user", "text": "?", "parse_data": {"intent": {"name": intent}}}


def reply(events: list[dict]) -> str:
    tracker = Tracker("s", {}, events[-1]["parse_data"], events, False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionFallback().run(dispatcher, tracker, {}))
    return dispatcher.messages[0]["response"]


def test_first_fallback_asks_to_rephrase():
    assert reply([user("greet"), user("nlu_fallback")]) == "utter_default"


def test_second_fallback_in_a_row_offers_a_person():
    events = [user("nlu_fallback"), {"event": "bot", "text": "Sorry"}, user("nlu_fallback")]
    assert reply(events) == "utter_default_offer_person"


def test_keyboard_mashing_counts_as_a_miss():
    assert reply([user("nonsense")]) == "utter_nonsense"
    assert reply([user("nonsense"), user("nlu_fallback")]) == "utter_default_offer_person"


def test_in_a_form_the_form_reads_the_message_instead():
    events = [user("nlu_fallback")]
    tracker = Tracker(
        "s", {}, events[-1]["parse_data"], events, False, None, {"name": "handoff_form"}, "x"
    )
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ActionFallback().run(dispatcher, tracker, {}))
    assert result == [{"event": "followup", "timestamp": None, "name": "handoff_form"}]
    assert dispatcher.messages == []


def test_fallbacks_with_an_understood_message_between_start_again():
    assert reply([user("nlu_fallback"), user("greet"), user("nlu_fallback")]) == "utter_default"
