"""Privacy questions get the privacy answer; young people also the confidential services."""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.privacy import ActionAnswerPrivacy


def answer(text: str) -> list[str]:
    parse = {"text": text, "intent": {"name": "ask_privacy", "confidence": 0.9}, "entities": []}
    events = [{"event": "user", "text": text, "parse_data": parse}]
    tracker = Tracker("t", {}, parse, events, False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAnswerPrivacy().run(dispatcher, tracker, {}))
    return [m["response"] for m in dispatcher.messages]


@pytest.mark.parametrize(
    ("text", "young"),
    [
        ("is this private?", False),
        ("who can see this", False),
        ("will the cops see this", False),
        ("dont tell my mum", True),
        ("will u tell my parents", True),
        ("im 15, will my school find out?", True),
        ("will my whānau see this", True),
    ],
)
def test_privacy_questions_get_the_privacy_answer_and_young_people_the_confidential_services(
    text, young
):
    expected = ["utter_privacy", "utter_privacy_young"] if young else ["utter_privacy"]
    assert answer(text) == expected
