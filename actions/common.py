"""Helpers shared by the actions: the latest intent and entities, shown-services state, and
what every form does (a place, leaving at any question, counting tries at a question)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from bot.directory.places import gazetteer
from bot.directory.session_state import Shown
from bot.handoff import conversation as talk
from bot.safety.detector import CRISIS_PREFIX

# Set when a form was left ("stop" or "number"); the action ending the form then leaves.
LEFT_SLOT = "form_left"
SURE = 0.5
# Leaving on the model's word alone needs more: "send it" must never stop a form.
LEAVING_SURE = 0.8


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def sure_intent(tracker: Tracker, sure: float = SURE) -> str | None:
    """The intent, if the model is reasonably sure ("Mere" is a name, not a weak 'skip')."""
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name") if (intent.get("confidence") or 0) >= sure else None


def text_of(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def tries_at(tracker: Tracker, slot: str) -> int:
    """How many messages the person has sent while ``slot`` was being asked, this one
    included: back to when the form last asked something else (or nothing)."""
    messages = tries = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            messages += 1
        elif event.get("event") == "slot" and event.get("name") == REQUESTED_SLOT:
            if event.get("value") != slot:
                break
            tries = messages
    return tries


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
    """Mixed into form validation: a place is kept as its gazetteer key (Māwhera -> greymouth);
    a skipped place stays skipped (``talk.SKIPPED``), so it is not asked again."""

    def validate_place(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value == talk.SKIPPED:
            return {"place": talk.SKIPPED}
        place = gazetteer().resolve(str(slot_value)) if slot_value else None
        return {"place": place.key if place else None}


class LeavableForm:
    """Mixed into form validation, before ``FormValidationAction``: leaving is always possible.

    "No. stop", "cancel", "nah forget it", "kāti" or "just give me a number" end the
    form at any question, in one message, before the answer is read: the form's
    answers are cleared (nothing is sent or kept), ``form_left`` says why, and the
    action that ends the form says so (``actions.leaving.leave``). A crisis is never
    read as leaving.
    """

    @staticmethod
    def leaving_why(tracker: Tracker) -> str | None:
        """Why the message leaves the form at its question, or None if it does not."""
        intent = latest_intent(tracker) or ""
        if not tracker.get_slot(REQUESTED_SLOT) or intent.startswith(CRISIS_PREFIX):
            return None
        return talk.leaving(text_of(tracker), sure_intent(tracker, LEAVING_SURE))

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        why = self.leaving_why(tracker)
        if why is None:
            return await super().run(dispatcher, tracker, domain)
        cleared = [SlotSet(slot, None) for slot in self.domain_slots(domain)]
        return [*cleared, SlotSet(LEFT_SLOT, why), SlotSet(REQUESTED_SLOT, None)]
