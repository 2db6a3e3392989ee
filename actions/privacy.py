"""Privacy: questions about it answered, and 'delete my data' / 'forget me' (handoff
requests scrubbed, then the tracker store drops the chat)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from bot import clock
from bot.db import session_scope
from bot.handoff import outbox
from bot.handoff.service import forget_conversation
from bot.nlu.family_knowing import about_family_knowing

# bot.privacy.FORGET_ACTION: its tracker store deletes a conversation once this action has
# run. Not imported from there, which would load Rasa's tracker store into the action server;
# tests/test_privacy.py keeps the two the same.
FORGET_ACTION = "action_forget_me"


class ActionAnswerPrivacy(Action):
    """What Āwhina keeps and who sees it; to a young person worried their whānau will find
    out ("dont tell my mum"), also which services keep things confidential."""

    def name(self) -> str:
        return "action_answer_privacy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_privacy")
        if about_family_knowing(tracker.latest_message.get("text")):
            dispatcher.utter_message(response="utter_privacy_young")
        return []


class ActionForgetMe(Action):
    """Deletes what this conversation gave; a form in progress ends with it."""

    def name(self) -> str:
        return FORGET_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        with session_scope() as session:
            forget_conversation(session, tracker.sender_id, clock.now())
        outbox.forget(tracker.sender_id)
        dispatcher.utter_message(response="utter_forgotten")
        if tracker.active_loop.get("name"):
            return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
        return []
