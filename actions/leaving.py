"""Leaving: after "stop" or "just give me a number", in a form or with none open.

A form left that way ends like any form, so what ends it (``action_submit_handoff``;
for the search, its form's validation) calls :func:`leave_async` instead of doing
its work; with no form open the rules run ``action_leave_form``.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import LEFT_SLOT, latest_intent
from bot.db import run_db
from bot.directory import present
from bot.directory.helplines import helplines
from bot.directory.query import ServiceView, find_by_name
from bot.handoff import conversation as talk


def _lines(session: Session, tracker: Tracker) -> list[ServiceView]:
    """The lines for a number request: "the number for Lifeline" names its service."""
    text = tracker.latest_message.get("text") or ""
    return find_by_name(session, text) or helplines(session, tracker.get_slot("need"))


def _why(tracker: Tracker) -> str | None:
    return tracker.get_slot(LEFT_SLOT) or talk.LEAVING_INTENTS.get(latest_intent(tracker) or "")


async def leave_async(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> list[dict[str, Any]]:
    """Says the form stopped and nothing was passed on, then gives the free lines; a
    number request gets the numbers to ring now, with the line for the need talked about
    (looked up off the event loop).

    A form just left says so in ``form_left`` (its answers are already cleared). A
    form a crisis paused is ended here too, its answers cleared, so "carry on" no
    longer brings it back.
    """
    why = _why(tracker)
    lines = await run_db(_lines, tracker) if why == talk.NUMBER else []
    events: list[dict[str, Any]] = [SlotSet(LEFT_SLOT, None)]
    paused = tracker.get_slot("interrupted_form")
    if paused:
        questions = domain.get("forms", {}).get(paused, {}).get("required_slots", [])
        events += [SlotSet(slot, None) for slot in questions]
        events.append(SlotSet("interrupted_form", None))
    stopped = bool(tracker.get_slot(LEFT_SLOT) or paused)
    if stopped:
        dispatcher.utter_message(response="utter_form_stopped")
    if why == talk.NUMBER:
        answer = "\n".join(present.contact_answer(v) for v in lines)
        dispatcher.utter_message(response="utter_helplines", lines=answer)
    elif stopped:
        dispatcher.utter_message(response="utter_free_lines")
    else:
        dispatcher.utter_message(response="utter_deny_no_context")
    return events


class ActionLeaveForm(Action):
    """After "stop" or "just give me a number" with no form open (or one a crisis paused)."""

    def name(self) -> str:
        return "action_leave_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        return await leave_async(dispatcher, tracker, domain)
