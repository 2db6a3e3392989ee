"""Form questions: a form asks for a slot through ``action_ask_<slot>``.

Rasa's forms look for ``action_ask_<slot>`` before ``utter_ask_<slot>``. The questions
themselves are replies in ``data/replies.yml`` (see ``bot/replies.py`` for why they are
not domain responses); each action here only names its question. The confirmation
question, which shows a summary, has its own action (``actions/handoff.py``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict


class AskFor(Action, ABC):
    """Asks the form's question for :attr:`slot`."""

    @property
    @abstractmethod
    def slot(self) -> str: ...

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response=f"utter_ask_{self.slot}")
        return []


class AskPlace(AskFor):
    slot = "place"


class AskHandoffConsent(AskFor):
    slot = "handoff_consent"


class AskHandoffName(AskFor):
    slot = "handoff_name"


class AskHandoffContactMethod(AskFor):
    slot = "handoff_contact_method"


class AskHandoffContactDetail(AskFor):
    slot = "handoff_contact_detail"


class AskHandoffGoodTime(AskFor):
    slot = "handoff_good_time"


class AskHandoffFor(AskFor):
    slot = "handoff_for"
