"""A message that is only a number picks a result: "2", "number 2", "no. 2", "the 2nd one".

On SMS a bare number is the most natural reply to a numbered list, and the
intent classifier cannot learn it from text alone ("2" looks like nothing).
``PickNumber`` runs after the classifier and the fallback: a message that is
nothing but a pick becomes ``ask_service_detail`` with an ``ordinal`` entity,
which the follow-up action answers from the services shown (or says which
numbers there are). The SMS channel maps a number to a button first when the
bot's last message had numbered buttons, so those numbers keep their meaning.
"""

from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.components import _Stateless

PICK_INTENT = "ask_service_detail"
_PICK = re.compile(
    r"^\s*(?:(?:the|number|no\.?|nr\.?|#|option|pick|choose)\s*)*"
    r"(?P<number>\d{1,2})(?:st|nd|rd|th)?(?:\s*(?:one|pls|please))?\s*[.!?]*\s*$",
    re.IGNORECASE,
)


def _pick(text: str | None) -> re.Match[str] | None:
    match = _PICK.match(text or "")
    return match if match and int(match["number"]) > 0 else None


def picked_number(text: str | None) -> str | None:
    """The number a message picks, as text ("2"), if the message is nothing but a pick."""
    match = _pick(text)
    return str(int(match["number"])) if match else None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class PickNumber(_Stateless):
    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            match = _pick(message.get(TEXT))
            if match is None:
                continue
            entities = [e for e in message.get(ENTITIES, []) if e.get("entity") != "ordinal"]
            entities.append(
                {
                    "entity": "ordinal",
                    "value": str(int(match["number"])),
                    "start": match.start("number"),
                    "end": match.end("number"),
                    "confidence_entity": 1.0,
                    "extractor": self.__class__.__name__,
                }
            )
            message.set(ENTITIES, entities, add_to_output=True)
            intent = {"name": PICK_INTENT, "confidence": 1.0}
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
        return messages
