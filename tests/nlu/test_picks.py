"""A message that is only a number picks a result from the list shown."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.picks import PICK_INTENT, PickNumber, picked_number


@pytest.mark.parametrize(
    "text, number",
    [
        ("2", "2"),
        ("number 2", "2"),
        ("no. 2", "2"),
        ("No 3", "3"),
        ("the 2nd", "2"),
        ("the 2nd one", "2"),
        ("#1", "1"),
        ("3.", "3"),
        (" 12 ", "12"),
        ("option 4", "4"),
    ],
)
def test_a_bare_pick_is_read(text, number):
    assert picked_number(text) == number


@pytest.mark.parametrize(
    "text", ["0", "021 123 4567", "2 kids", "i have 2 kids", "123", "two", "", "call 2"]
)
def test_anything_more_than_a_pick_is_left_alone(text):
    assert picked_number(text) is None


def test_the_component_sets_the_intent_and_the_ordinal():
    message = Message({TEXT: "no. 2", INTENT: {"name": "nlu_fallback", "confidence": 0.2}})
    (message,) = PickNumber({}).process([message])
    assert message.get(INTENT)["name"] == PICK_INTENT
    assert [(e["entity"], e["value"]) for e in message.get(ENTITIES)] == [("ordinal", "2")]
    other = Message({TEXT: "need a lawyer", INTENT: {"name": "need_legal", "confidence": 0.9}})
    (other,) = PickNumber({}).process([other])
    assert other.get(INTENT)["name"] == "need_legal"
