"""A fallback that helps: rephrase and what the bot can do; after two in a row, offer a person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

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
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if fallbacks_in_a_row(tracker) >= OFFER_AFTER:
            dispatcher.utter_message(response="utter_default_offer_person")
            return []
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        dispatcher.utter_message(response=FALLBACK_INTENTS.get(intent, "utter_default"))
        return []
