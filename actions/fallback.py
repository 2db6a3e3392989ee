"""A fallback that helps: rephrase and what the bot can do; after two in a row, offer a person.

It replaces Rasa's ``action_default_fallback``, which Rasa runs for every
message the NLU could not classify, even in the middle of a form. There the
message is the answer to the question asked ("09 123 4567", "Timbuktu"), so it
goes back to the form, which reads it; and nothing is reverted.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import entity_values
from actions.search import show_search

# Messages the bot could not use: not understood, or keyboard mashing.
FALLBACK_INTENTS = {"nlu_fallback": "utter_default", "nonsense": "utter_nonsense"}
OFFER_AFTER = 2


def fallbacks_in_a_row(tracker: Tracker) -> int:
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if ((event.get("parse_data") or {}).get("intent") or {}).get(
            "name"
        ) not in FALLBACK_INTENTS:
            break
        count += 1
    return count


class ActionFallback(Action):
    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        loop = tracker.active_loop.get("name")
        if loop:
            return [FollowupAction(loop)]
        if entity_values(tracker, "place") and tracker.get_slot("need"):
            return await show_search(dispatcher, tracker)  # "what about in westport"
        if fallbacks_in_a_row(tracker) >= OFFER_AFTER:
            dispatcher.utter_message(response="utter_default_offer_person")
            return []
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        dispatcher.utter_message(response=FALLBACK_INTENTS.get(intent, "utter_default"))
        return []
