"""The warm handoff: the consent-first form, submitting the request, and the navigator's messages.

Thin: parsing and wording live in ``bot.handoff.conversation``, storage and
routing in ``bot.handoff.service``, the retry of requests the database could
not take in ``bot.handoff.outbox``.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.common import PlaceSlot, entity_values, latest_intent
from bot import clock
from bot.db import session_scope
from bot.directory import present
from bot.directory.query import services_for_need
from bot.handoff import HandoffError, outbox
from bot.handoff import conversation as talk
from bot.handoff.service import HandoffDraft, next_opening, submit, team_open_now
from bot.safety.detector import CRISIS_PREFIX

log = logging.getLogger(__name__)
FORM_SLOTS = (
    "handoff_consent",
    "handoff_name",
    "handoff_contact_method",
    "handoff_contact_detail",
    "handoff_good_time",
    "place",
    "handoff_for",
    "handoff_confirmed",
)
NEEDS_DETAIL = {"call", "text", "email"}
SURE = 0.5
URGENT_LINES = 3


def _answering(tracker: Tracker, slot: str) -> bool:
    """The person is answering this question (and is not in crisis)."""
    intent = latest_intent(tracker) or ""
    return tracker.get_slot("requested_slot") == slot and not intent.startswith(CRISIS_PREFIX)


def _text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def _sure_intent(tracker: Tracker) -> str | None:
    """The intent, if the model is reasonably sure ("Mere" is a name, not a weak 'skip')."""
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name") if (intent.get("confidence") or 0) >= SURE else None


def _crisis_lines() -> str:
    """The first few crisis lines (111 first): enough for a phone screen."""
    with session_scope() as session:
        lines = services_for_need(session, "crisis")[:URGENT_LINES]
        return "\n".join(present.contact_answer(v) for v in lines)


def _ask_again(dispatcher: CollectingDispatcher, slot: str, response: str) -> dict[str, Any]:
    """Says what was wrong and keeps the question open.

    Setting the slot (to nothing) tells Rasa the answer was read, so the form
    asks again instead of handing the message to the fallback rules.
    """
    dispatcher.utter_message(response=response)
    return {slot: None}


class ValidateHandoffForm(PlaceSlot, FormValidationAction):
    """Asks only what the referral needs, in order, each question once; most can be skipped."""

    def name(self) -> str:
        return "validate_handoff_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        consent = tracker.get_slot("handoff_consent")
        if consent is False or tracker.get_slot("handoff_confirmed") is False:
            return []
        slots = list(FORM_SLOTS)
        if tracker.get_slot("handoff_contact_method") not in NEEDS_DETAIL:
            slots.remove("handoff_contact_detail")
        if tracker.get_slot("handoff_contact_method") == "chat":
            slots.remove("handoff_good_time")
        if tracker.get_slot("place_skipped"):
            slots.remove("place")
        return slots

    def extract_handoff_consent(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not _answering(tracker, "handoff_consent"):
            return {}
        answer = talk.yes_or_no(_text(tracker), _sure_intent(tracker))
        if answer is None:
            return _ask_again(dispatcher, "handoff_consent", "utter_handoff_yes_or_no")
        return {"handoff_consent": answer}

    def extract_handoff_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not _answering(tracker, "handoff_name"):
            return {}
        if talk.is_skip(_text(tracker), _sure_intent(tracker)):
            return {"handoff_name": talk.SKIPPED}
        name = talk.preferred_name(_text(tracker))
        if name is None:
            return _ask_again(dispatcher, "handoff_name", "utter_handoff_name_again")
        return {"handoff_name": name}

    def extract_handoff_contact_method(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not _answering(tracker, "handoff_contact_method"):
            return {}
        method = talk.contact_method(_text(tracker))
        if method is None and talk.is_skip(_text(tracker), _sure_intent(tracker)):
            method = "chat"
        if method is None:
            return _ask_again(dispatcher, "handoff_contact_method", "utter_handoff_method_again")
        return {"handoff_contact_method": method}

    def extract_handoff_contact_detail(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not _answering(tracker, "handoff_contact_detail"):
            return {}
        method = tracker.get_slot("handoff_contact_method")
        if talk.is_skip(_text(tracker), _sure_intent(tracker)):
            dispatcher.utter_message(response="utter_handoff_chat_instead")
            return {"handoff_contact_method": "chat"}
        detail = talk.contact_detail(method, _text(tracker))
        if detail is None:
            response = (
                "utter_handoff_email_again" if method == "email" else "utter_handoff_phone_again"
            )
            dispatcher.utter_message(response=response)
            return {}
        return {"handoff_contact_detail": detail}

    def extract_handoff_good_time(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not _answering(tracker, "handoff_good_time"):
            return {}
        if talk.is_skip(_text(tracker), _sure_intent(tracker)):
            return {"handoff_good_time": talk.SKIPPED}
        return {"handoff_good_time": talk.good_time(_text(tracker)) or talk.SKIPPED}

    def extract_place(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A place comes from the entity mapping; anything else here skips the question."""
        if not _answering(tracker, "place") or entity_values(tracker, "place"):
            return {}
        return {"place_skipped": True}

    def extract_handoff_for(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not _answering(tracker, "handoff_for"):
            return {}
        if talk.is_skip(_text(tracker), _sure_intent(tracker)):
            return {"handoff_for": talk.SKIPPED}
        who = talk.who_for(_text(tracker)) or tracker.get_slot("audience")
        return {"handoff_for": who or talk.SKIPPED}

    def extract_handoff_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not _answering(tracker, "handoff_confirmed"):
            return {}
        if "change" in _text(tracker).lower():
            dispatcher.utter_message(response="utter_handoff_change")
            return {slot: None for slot in FORM_SLOTS if slot not in ("handoff_consent", "place")}
        answer = talk.yes_or_no(_text(tracker), _sure_intent(tracker))
        if answer is None:
            return _ask_again(dispatcher, "handoff_confirmed", "utter_handoff_yes_or_no")
        return {"handoff_confirmed": answer}


class ActionAskHandoffConfirmed(Action):
    """Repeats everything back in one message before anything is sent."""

    def name(self) -> str:
        return "action_ask_handoff_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        method = tracker.get_slot("handoff_contact_method") or "chat"
        name = tracker.get_slot("handoff_name")
        good_time = tracker.get_slot("handoff_good_time")
        lines = [
            talk.need_summary(
                tracker.get_slot("need"), tracker.get_slot("place"), tracker.get_slot("handoff_for")
            ),
            f"Name: {name}" if name else "Name: not given",
            f"Contact: {talk.method_phrase(method, tracker.get_slot('handoff_contact_detail'))}",
        ]
        if good_time:
            lines.append(f"Good time: {good_time}")
        dispatcher.utter_message(response="utter_ask_handoff_confirmed", summary="\n".join(lines))
        return []


class ActionSubmitHandoff(Action):
    """Stores the request (or keeps it for retry), then says who will be in touch and when."""

    def name(self) -> str:
        return "action_submit_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        reset = [SlotSet(slot, None) for slot in FORM_SLOTS if slot != "place"]
        if not tracker.get_slot("handoff_consent"):
            dispatcher.utter_message(response="utter_handoff_no_consent")
            return reset
        if tracker.get_slot("handoff_confirmed") is not True:
            dispatcher.utter_message(response="utter_handoff_cancelled")
            return reset
        draft = self._draft(tracker)
        # Retried runs of this action for the same "yes" share the key: no duplicate.
        key = f"{tracker.sender_id}:{self._last_user_timestamp(tracker)}"
        try:
            outbox.flush()
            with session_scope() as session:
                request = submit(session, draft, key)
                team = request.team
                org, sample = team.organization.name, team.is_sample
                now = clock.now()
                when = talk.when_phrase(team_open_now(team, now), next_opening(team, now))
        except HandoffError as exc:
            dispatcher.utter_message(response="utter_handoff_invalid", problem=str(exc))
            return reset
        except SQLAlchemyError as exc:
            # Not log.exception: the error text can hold the statement's parameters.
            log.error("database error (%s); handoff request kept for retry", type(exc).__name__)
            outbox.keep(draft, key)
            dispatcher.utter_message(response="utter_handoff_kept")
            return reset
        contact = talk.method_phrase(draft.contact_method, draft.contact_detail)
        if sample:  # no real navigator will read it: say so, and where help is now
            dispatcher.utter_message(
                response="utter_handoff_sent_sample", organisation=org, contact=contact
            )
            return reset
        dispatcher.utter_message(
            response="utter_handoff_sent", organisation=org, contact=contact, when=when
        )
        dispatcher.utter_message(response="utter_handoff_if_urgent", lines=_crisis_lines())
        return reset

    @staticmethod
    def _last_user_timestamp(tracker: Tracker) -> str:
        for event in reversed(tracker.events):
            if event.get("event") == "user":
                return str(event.get("timestamp"))
        return ""

    @staticmethod
    def _draft(tracker: Tracker) -> HandoffDraft:
        who = tracker.get_slot("handoff_for") or None
        audience = who if who not in (None, "self") else None
        return HandoffDraft(
            conversation_id=tracker.sender_id,
            channel=tracker.get_latest_input_channel() or "rest",
            contact_method=tracker.get_slot("handoff_contact_method") or "chat",
            consent=True,
            need=tracker.get_slot("need"),
            need_summary=talk.need_summary(
                tracker.get_slot("need"), tracker.get_slot("place"), who
            ),
            place_key=tracker.get_slot("place"),
            audience=audience,
            preferred_name=tracker.get_slot("handoff_name") or None,
            contact_detail=tracker.get_slot("handoff_contact_detail"),
            good_time=tracker.get_slot("handoff_good_time") or None,
            urgent=bool(tracker.get_slot("crisis_category")),
        )


class _NavigatorAction(Action, ABC):
    """Says something on behalf of the navigator, using the slots the inbox set."""

    response = ""

    @abstractmethod
    def name(self) -> str: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            response=self.response,
            navigator=tracker.get_slot("navigator_name") or "A navigator",
            organisation=tracker.get_slot("navigator_org") or "the navigation service",
            message=tracker.get_slot("navigator_message") or "",
        )
        return []


class ActionHandoffClaimed(_NavigatorAction):
    response = "utter_handoff_claimed"

    def name(self) -> str:
        return "action_handoff_claimed"


class ActionNavigatorJoined(_NavigatorAction):
    response = "utter_navigator_joined"

    def name(self) -> str:
        return "action_navigator_joined"


class ActionNavigatorMessage(_NavigatorAction):
    response = "utter_navigator_message"

    def name(self) -> str:
        return "action_navigator_message"


class ActionHandoffEscalated(_NavigatorAction):
    response = "utter_handoff_escalated"

    def name(self) -> str:
        return "action_handoff_escalated"


class ActionNavigatorLeft(_NavigatorAction):
    response = "utter_navigator_left"

    def name(self) -> str:
        return "action_navigator_left"
