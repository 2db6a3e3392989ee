"""Helpers shared by the actions: the latest intent and entities, and shown-services state."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.directory.places import gazetteer
from bot.directory.session_state import Shown


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def entity_values(tracker: Tracker, entity: str) -> list[str]:
    return [
        str(e.get("value"))
        for e in tracker.latest_message.get("entities", [])
        if e.get("entity") == entity and e.get("value") is not None
    ]


def shown(tracker: Tracker) -> Shown | None:
    results = tracker.get_slot("results") or []
    if not results:
        return None
    offset = int(tracker.get_slot("results_offset") or 0)
    count = int(tracker.get_slot("results_count") or 0)
    return Shown(list(results), offset, count)


def shown_events(state: Shown) -> list[dict[str, Any]]:
    return [
        SlotSet("results", state.results),
        SlotSet("results_offset", float(state.offset)),
        SlotSet("results_count", float(state.count)),
    ]


class PlaceSlot:
    """Mixed into form validation: a place is kept as its gazetteer key (Māwhera -> greymouth)."""

    def validate_place(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        place = gazetteer().resolve(str(slot_value)) if slot_value else None
        return {"place": place.key if place else None}
