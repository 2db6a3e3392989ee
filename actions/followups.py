"""Follow-up questions about services already shown, or named in the message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import entity_values, latest_intent, shown
from actions.search import show_search
from bot.db import run_db
from bot.directory import present
from bot.directory.query import ServiceView, find_by_name, get_services
from bot.nlu.narrowing import FILTER_FOR_INTENT, asks_for_other_services

ANSWERS: dict[str, Callable[[ServiceView], str]] = {
    "ask_open_now": present.open_now_line,
    "ask_contact": present.contact_answer,
    "ask_cost": present.cost_answer,
    "ask_kaupapa_maori": present.kaupapa_answer,
}


def _services_in_question(session: Session, tracker: Tracker) -> list[ServiceView]:
    """The services a follow-up is about: named ones, "the second one", the one in
    focus, or the page just shown, in that order (run with ``run_db``)."""
    text = tracker.latest_message.get("text") or ""
    state = shown(tracker)
    named = find_by_name(session, text)
    if named:
        return named
    ordinals = entity_values(tracker, "ordinal")
    if ordinals and state:
        picked = [state.pick(o) for o in ordinals]
        return get_services(session, [p for p in picked if p])
    focus = tracker.get_slot("focus_service")
    if focus:
        return get_services(session, [focus])
    return get_services(session, state.page) if state else []


async def _asks_for_a_narrower_search(tracker: Tracker) -> bool:
    """ "Anything kaupapa Māori?" (search again) rather than "is the 2nd one?" (a fact)."""
    if entity_values(tracker, "ordinal"):
        return False
    text = tracker.latest_message.get("text") or ""
    if shown(tracker) is not None and not asks_for_other_services(text):
        return False
    return not await run_db(find_by_name, text)


class ActionServiceDetail(Action):
    """ "Tell me about the second one"."""

    def name(self) -> str:
        return "action_service_detail"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        ordinals = entity_values(tracker, "ordinal")
        has_reference = ordinals or tracker.get_slot("focus_service")
        services = await run_db(_services_in_question, tracker)
        state = shown(tracker)
        if ordinals and state and not services:
            dispatcher.utter_message(response="utter_pick_out_of_range", count=state.numbered)
            return []
        if not services:
            dispatcher.utter_message(
                response="utter_nothing_shown" if state is None else "utter_which_one"
            )
            return []
        if len(services) > 1 and not has_reference:
            dispatcher.utter_message(response="utter_which_one")
            return []
        view = services[0]
        dispatcher.utter_message(response="utter_service_detail", details=present.detail(view))
        return [SlotSet("focus_service", view.id)]


class ActionServiceFact(Action):
    """Open now, contact, cost or kaupapa Māori, for the services in question."""

    def name(self) -> str:
        return "action_service_fact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        intent = latest_intent(tracker) or ""
        wanted = FILTER_FOR_INTENT.get(intent)
        if wanted and await _asks_for_a_narrower_search(tracker):
            return await show_search(dispatcher, tracker, {wanted: True})
        answer = ANSWERS.get(intent, present.contact_answer)
        services = await run_db(_services_in_question, tracker)
        if not services:
            dispatcher.utter_message(response="utter_nothing_shown")
            return []
        dispatcher.utter_message(
            response="utter_service_facts", facts="\n".join(answer(v) for v in services)
        )
        return [SlotSet("focus_service", services[0].id)] if len(services) == 1 else []
