"""Finding services: start a search, ask for the place (form), show results and more."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    LEFT_SLOT,
    LeavableForm,
    PlaceSlot,
    entity_values,
    latest_intent,
    shown,
    shown_events,
)
from actions.leaving import leave
from bot.db import session_scope
from bot.directory import present
from bot.directory.places import gazetteer
from bot.directory.query import ServiceQuery, get_services, search
from bot.directory.session_state import PAGE_SIZE, Shown
from bot.directory.taxonomy import taxonomies
from bot.handoff import conversation as talk

# Replies to "whereabouts are you?" that mean "I won't say" (or "ok", "yes": no place)...
DECLINE_INTENTS = {"skip", "deny", "affirm"}
# ...and replies that may name a place we don't know.
NO_PLACE_INTENTS = DECLINE_INTENTS | {"inform", "nlu_fallback", "out_of_scope", "nonsense"}


class ActionStartSearch(Action):
    """Records the need asked for and forgets the last results.

    The intent names the need ("need_housing"); a general request for help
    takes it from a need word in the message instead ("can you help with kai").
    """

    def name(self) -> str:
        return "action_start_search"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        intent = latest_intent(tracker)
        need = taxonomies().need_for_intent(intent)
        if need is None or need.code == "general":
            words = entity_values(tracker, "need")
            need = taxonomies().needs.get(words[0]) if words else None
        events = [
            SlotSet("need", need.code if need else None),
            SlotSet("kaupapa_maori", intent == "need_cultural" or None),
            SlotSet("results", None),
            SlotSet("results_offset", None),
            SlotSet("results_count", None),
            SlotSet("focus_service", None),
        ]
        return events


class ValidateServiceSearchForm(LeavableForm, PlaceSlot, FormValidationAction):
    """Asks for the place once; a skip or a place we don't know ends the question, and
    "stop" or "just give me a number" leaves the search.

    With no need known yet there is nothing to ask: the search that follows
    asks what kind of help is wanted.
    """

    def name(self) -> str:
        return "validate_service_search_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        return domain_slots if tracker.get_slot("need") else []

    async def extract_place(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A reply to "whereabouts?" with no place we know skips the place (it holds
        ``talk.SKIPPED``, so it is not asked again).

        The place itself comes from the entity mapping in the domain; any other
        intent (a question of its own, a new need) is left to the rules.
        """
        if tracker.get_slot("requested_slot") != "place" or entity_values(tracker, "place"):
            return {}
        if latest_intent(tracker) not in NO_PLACE_INTENTS:
            return {}
        if latest_intent(tracker) not in DECLINE_INTENTS:
            dispatcher.utter_message(response="utter_unknown_place")
        return {"place": talk.SKIPPED}


class ActionSearchServices(Action):
    """Shows the best services for the need, place and audience in the slots (unless the
    person left the search)."""

    def name(self) -> str:
        return "action_search_services"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if tracker.get_slot(LEFT_SLOT):
            return leave(dispatcher, tracker, domain)
        need_code = tracker.get_slot("need")
        if not need_code:
            dispatcher.utter_message(response="utter_ask_need_kind")
            return []
        place_key = tracker.get_slot("place") or None  # None also when skipped
        query = ServiceQuery(
            need=need_code,
            place=place_key,
            audience=tracker.get_slot("audience"),
            kaupapa_maori=bool(tracker.get_slot("kaupapa_maori")),
        )
        with session_scope() as session:
            result = search(session, query)
        need = taxonomies().needs[need_code]
        place = gazetteer().get(place_key)
        place_phrase = f" in {place.display_name}" if place else ""
        if not result.services:
            dispatcher.utter_message(
                response="utter_no_results", need_label=need.label, place_phrase=place_phrase
            )
            return [SlotSet("results", None)]
        state = Shown([s.id for s in result.services], 0, min(PAGE_SIZE, len(result.services)))
        page = result.services[: state.count]
        if result.fallback:
            dispatcher.utter_message(
                response="utter_no_local_results", need_label=need.label, place_phrase=place_phrase
            )
        else:
            dispatcher.utter_message(
                response="utter_results_intro", need_label=need.label, place_phrase=place_phrase
            )
        dispatcher.utter_message(response="utter_services", services=present.summaries(page))
        dispatcher.utter_message(response="utter_results_hint")
        return shown_events(state)


class ActionShowMore(Action):
    def name(self) -> str:
        return "action_show_more"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        state = shown(tracker)
        if state is None:
            dispatcher.utter_message(response="utter_nothing_shown")
            return []
        following = state.next_page()
        if following is None:
            dispatcher.utter_message(response="utter_no_more")
            return []
        with session_scope() as session:
            views = get_services(session, following.page)
        dispatcher.utter_message(
            response="utter_services",
            services=present.summaries(views, start=following.offset + 1),
        )
        return [*shown_events(following), SlotSet("focus_service", None)]
