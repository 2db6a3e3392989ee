"""Finding services: start a search, ask for the place (form), show results and more."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
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
from actions.leaving import leave_async
from bot.db import run_db
from bot.directory import present, query
from bot.directory.helplines import helpline_for_need
from bot.directory.places import gazetteer
from bot.directory.query import get_summaries
from bot.directory.session_state import PAGE_SIZE, Shown
from bot.directory.taxonomy import taxonomies
from bot.handoff import conversation as talk
from bot.insights import demand

# Replies to "whereabouts are you?" that mean "I won't say" (or "ok", "yes": no place)...
DECLINE_INTENTS = {"skip", "deny", "affirm"}
# ...and replies that may name a place we don't know.
NO_PLACE_INTENTS = DECLINE_INTENTS | {"inform", "nlu_fallback", "out_of_scope", "nonsense"}


SEARCH_FORM = "service_search_form"


def _activating(tracker: Tracker) -> bool:
    """Whether Rasa is starting the form: its activation comes after the latest message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "active_loop" and event.get("name") == SEARCH_FORM:
            return True
    return False


def _asks_for_help(tracker: Tracker) -> bool:
    """Whether the message asks for help (a need intent, general or of a kind)."""
    return taxonomies().need_for_intent(latest_intent(tracker)) is not None


def _need_asked(tracker: Tracker) -> str | None:
    """The need the message names: its intent's, or for a general request a need word's."""
    need = taxonomies().need_for_intent(latest_intent(tracker))
    if need is None or need.code == "general":
        return _named_need(tracker)
    return need.code


async def start_search(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """Records the need asked for and forgets the last results; with no place known yet,
    says what was understood (and the need's helpline) before the place is asked."""
    code = _need_asked(tracker)
    if code is not None and tracker.get_slot("place") is None:
        need = taxonomies().needs[code]
        line = await run_db(helpline_for_need, need.code)
        dispatcher.utter_message(
            response="utter_need_understood_with_line" if line else "utter_need_understood",
            need_label=need.label,
            line=present.now_line(line) if line else "",
        )
    events = [
        SlotSet("need", code),
        SlotSet("results", None),
        SlotSet("results_offset", None),
        SlotSet("results_count", None),
        SlotSet("focus_service", None),
    ]
    if latest_intent(tracker) == "need_cultural":
        events.append(SlotSet("kaupapa_maori", True))
    return events


class ValidateServiceSearchForm(LeavableForm, PlaceSlot, FormValidationAction):
    """Starts a search, then asks for the place once; a skip or a place we don't know ends
    the question, and "stop" or "just give me a number" leaves the search.

    With no need known yet there is nothing to ask: the form ends, asking what kind
    of help is wanted.
    """

    def name(self) -> str:
        return f"validate_{SEARCH_FORM}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Reads the message (``_read``); when that ends the form, it answers too: the
        search, or leaving (one call to the action server and one prediction fewer than
        an action of its own after the form).
        """
        events = await self._read(dispatcher, tracker, domain)
        tracker.add_slots(events)
        if not await self._ends(dispatcher, tracker, domain):
            return events
        return [
            *events,
            *await answer_search(dispatcher, tracker, domain),
            SlotSet(REQUESTED_SLOT, None),
        ]

    async def _ends(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> bool:
        """Whether the form ends here: it was left, or has nothing left to ask."""
        if tracker.get_slot(LEFT_SLOT):
            return True
        asked = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        return all(tracker.get_slot(slot) is not None for slot in asked)

    async def _read(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """A request for help starts the search afresh (``start_search``) before the place
        is read: at the form's start, and during it when it names a need ("actually its
        kai we need"). A general request naming none keeps the need when it answers the
        question (a place); otherwise it starts afresh too, and the search asks what kind
        of help. A request for help is never refused by the form, so no rule runs it again;
        leaving the form ("just give me a number for housing") goes first. Anything else
        that starts the form ("carry on" after crisis help) keeps the search as it was.
        """
        if self.leaving_why(tracker) is not None or not _asks_for_help(tracker):
            return await super().run(dispatcher, tracker, domain)
        if _activating(tracker) or _need_asked(tracker):
            started = await start_search(dispatcher, tracker)
            tracker.add_slots(started)
            return [*started, *await super().run(dispatcher, tracker, domain)]
        events = await super().run(dispatcher, tracker, domain)
        if any(e["event"] == "slot" and e["name"] != REQUESTED_SLOT for e in events):
            return events
        started = await start_search(dispatcher, tracker)
        tracker.add_slots(started)
        ask = await self.next_requested_slot(dispatcher, tracker, domain)
        return [*events, *started, *([ask] if ask else [])]

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
        named = gazetteer().resolve(tracker.latest_message.get("text"))
        if named:  # the whole answer is a place, e.g. "grey", which is also a word
            return {"place": named.key}
        if latest_intent(tracker) not in NO_PLACE_INTENTS:
            return {}
        if latest_intent(tracker) not in DECLINE_INTENTS:
            dispatcher.utter_message(response="utter_unknown_place")
        return {"place": talk.SKIPPED}


# The first line of an answer, by what the search found (see bot.directory.query).
INTROS = {
    query.LOCAL: "utter_results_intro",
    query.REGIONAL: "utter_results_regional",
    query.NATIONAL_ONLY: "utter_no_local_results",
    None: "utter_results_intro",
}


def _named_need(tracker: Tracker) -> str | None:
    """A need word in the message ("drugs", "its about my sons drinking")."""
    words = entity_values(tracker, "need")
    need = taxonomies().needs.get(words[0]) if words else None
    return need.code if need else None


async def show_search(
    dispatcher: CollectingDispatcher, tracker: Tracker, filters: dict[str, bool] | None = None
) -> list[dict[str, Any]]:
    """Searches with the need, place, audience and filters in the slots (``filters``
    added to them) and shows the first page, saying honestly how local it is."""
    filters = {name: bool(tracker.get_slot(name)) for name in query.FILTERS} | (filters or {})
    need_code = tracker.get_slot("need") or _named_need(tracker)
    if not need_code and not any(filters.values()):
        dispatcher.utter_message(response="utter_ask_need_kind")
        return []
    place_key = tracker.get_slot("place") or None  # None also when skipped
    asked = query.ServiceQuery(
        need=need_code, place=place_key, audience=tracker.get_slot("audience"), **filters
    )
    result = await run_db(query.search, asked, views=PAGE_SIZE)
    await demand.note_search(tracker, asked, result)
    need_event = SlotSet("need", need_code)
    filter_events = [SlotSet(name, value or None) for name, value in filters.items()]
    wording = present.search_wording(asked)
    if not result.services:
        dispatcher.utter_message(response="utter_no_results", **wording)
        return [SlotSet("results", None), need_event, *filter_events]
    state = Shown(result.ids, 0, min(PAGE_SIZE, len(result.ids)))
    if result.relaxed:
        dispatcher.utter_message(response="utter_filters_relaxed", **wording)
        filter_events = [SlotSet(name, None) for name in result.relaxed]
    elif result.fallback:
        dispatcher.utter_message(response="utter_general_results", **wording)
    else:
        dispatcher.utter_message(response=INTROS[result.reach], **wording)
    page = result.services[: state.count]
    dispatcher.utter_message(response="utter_services", services=present.summaries(page))
    dispatcher.utter_message(response="utter_results_hint")
    return [*shown_events(state), SlotSet("focus_service", None), need_event, *filter_events]


async def answer_search(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> list[dict[str, Any]]:
    """The search's answer, unless the person left the search (then leaving's)."""
    if tracker.get_slot(LEFT_SLOT):
        return await leave_async(dispatcher, tracker, domain)
    return await show_search(dispatcher, tracker)


class ActionSearchServices(Action):
    """Shows the best services for the need, place, audience and filters in the slots
    (unless the person left the search)."""

    def name(self) -> str:
        return "action_search_services"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        return await answer_search(dispatcher, tracker, domain)


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
        views = await run_db(get_summaries, following.page)
        dispatcher.utter_message(
            response="utter_services",
            services=present.summaries(views, start=following.offset + 1),
        )
        return [*shown_events(following), SlotSet("focus_service", None)]
