"""A message that names a need is a request for help, whatever weak intent it got.

"drugs" after "what kind of help?" (read as affirm), "its about my sons drinking,
we're in reefton" (inform), or "my boss will kill me if im late, anyway i need a
new job" (out of scope): the need entity from the entity ruler is the surer
signal. ``NeedWordIntent`` runs after the classifier: for the intents below, a
message with a ``need`` entity becomes ``need_help_general``, whose search takes
the need from the word (``actions.search.start_search``).
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.components import _Stateless

NEED_INTENT = "need_help_general"
# Intents that say nothing about what help is wanted.
WEAK_INTENTS = {"nlu_fallback", "affirm", "inform", "out_of_scope"}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class NeedWordIntent(_Stateless):
    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = (message.get(INTENT) or {}).get("name")
            names_a_need = any(e.get("entity") == "need" for e in message.get(ENTITIES, []))
            if intent in WEAK_INTENTS and names_a_need:
                chosen = {"name": NEED_INTENT, "confidence": 1.0}
                message.set(INTENT, chosen, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [chosen], add_to_output=True)
        return messages
