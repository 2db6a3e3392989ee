"""A weak intent with a need word in the message becomes a request for help."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.need_words import NEED_INTENT, NeedWordIntent

NEED = {"entity": "need", "value": "drugs_alcohol", "start": 0, "end": 5}


def processed(intent: str, entities: list[dict]) -> str:
    message = Message({TEXT: "…", INTENT: {"name": intent, "confidence": 0.3}, ENTITIES: entities})
    (message,) = NeedWordIntent({}).process([message])
    return message.get(INTENT)["name"]


@pytest.mark.parametrize("intent", ["affirm", "inform", "nlu_fallback", "out_of_scope"])
def test_a_need_word_turns_a_weak_intent_into_a_request_for_help(intent):
    assert processed(intent, [NEED]) == NEED_INTENT


@pytest.mark.parametrize("intent", ["deny", "ask_contact", "need_housing", "crisis_suicide"])
def test_other_intents_are_kept(intent):
    assert processed(intent, [NEED]) == intent


def test_without_a_need_word_nothing_changes():
    assert processed("affirm", [{"entity": "place", "value": "westport"}]) == "affirm"
