"""Asking for a real person. Until the navigator handoff exists, the honest answer is
the free lines where a trained person answers, from the directory."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.db import session_scope
from bot.directory import present
from bot.directory.query import get_services

TALK_NOW = ["need-to-talk-1737", "lifeline", "youthline"]


class ActionTalkToSomeone(Action):
    def name(self) -> str:
        return "action_talk_to_someone"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        with session_scope() as session:
            views = get_services(session, TALK_NOW)
        dispatcher.utter_message(
            response="utter_talk_to_someone",
            lines="\n".join(present.contact_answer(v) for v in views),
        )
        return []
