"""Helpers shared by the actions: the latest intent and entities, and shown-services state."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

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
