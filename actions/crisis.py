"""The crisis answer's second part: the right 24/7 lines from the directory.

The first part, with 111 and the main numbers, is a static response in the
domain so it arrives even when this action server or the database is down.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import latest_intent
from bot.db import run_db
from bot.directory import present
from bot.safety.detector import CRISIS_PREFIX
from bot.safety.lines import crisis_lines


class ActionCrisisResponse(Action):
    def name(self) -> str:
        return "action_crisis_response"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        category = (latest_intent(tracker) or "").removeprefix(CRISIS_PREFIX)
        views = await run_db(crisis_lines, category)
        lines = "\n".join(present.contact_answer(v) for v in views)
        dispatcher.utter_message(response="utter_crisis_lines", lines=lines)
        events: list[dict[str, Any]] = [SlotSet("crisis_category", category)]
        loop = tracker.active_loop.get("name")
        if loop:
            events += [
                ActiveLoop(None),
                SlotSet("requested_slot", None),
                SlotSet("interrupted_form", loop),
            ]
            dispatcher.utter_message(response="utter_crisis_resume")
        return events


class ActionResume(Action):
    """'Carry on': the rules then go back to the form a crisis interrupted, where it left off."""

    def name(self) -> str:
        return "action_resume"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        form = tracker.get_slot("interrupted_form")
        if not form:
            dispatcher.utter_message(response="utter_nothing_to_resume")
            return []
        return [SlotSet("interrupted_form", None)]
