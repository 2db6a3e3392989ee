"""Privacy: questions about it answered, and 'delete my data' / 'forget me' (handoff
requests scrubbed, or queued to be, then the tracker store drops the chat)."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from bot import clock
from bot.dialogue import NAVIGATOR_LIVE_SLOT
from bot.handoff import forgetting
from bot.nlu.family_knowing import about_family_knowing

# bot.privacy.FORGET_ACTION and FORGET_REPLIES: its tracker store deletes a conversation once
# this action has answered with one of these. Not imported from there, which would load Rasa's
# tracker store into the action server; tests/test_privacy.py keeps them the same.
FORGET_ACTION = "action_forget_me"
FORGOTTEN = "utter_forgotten"  # everything is deleted
FORGET_QUEUED = "utter_forget_queued"  # the chat is deleted; the handoff details will be soon


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
    """Deletes what this conversation gave, and says truly whether all of it is gone yet.

    A form in progress ends with it, and so does a live chat with a navigator
    (the inbox shows the navigator that the person asked to be forgotten).
    """

    def name(self) -> str:
        return FORGET_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        done = await asyncio.to_thread(forgetting.forget, tracker.sender_id, clock.now())
        dispatcher.utter_message(response=FORGOTTEN if done else FORGET_QUEUED)
        events: list[dict[str, Any]] = []
        if tracker.get_slot(NAVIGATOR_LIVE_SLOT):
            events.append(SlotSet(NAVIGATOR_LIVE_SLOT, None))
        if tracker.active_loop.get("name"):
            events += [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
        return events
