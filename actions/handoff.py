"""The warm handoff: the consent-first form, submitting the request, and the navigator's messages.

Thin: parsing and wording live in ``bot.handoff.conversation``, storage and
routing in ``bot.handoff.service``, the retry of requests the database could
not take in ``bot.handoff.outbox`` (its retry thread alone walks the outbox).
The database is called through ``run_db`` (a worker thread), never on the action
server's loop.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.common import (
    LEFT_SLOT,
    LeavableForm,
    PlaceSlot,
    entity_values,
    latest_intent,
    sure_intent,
    text_of,
    tries_at,
)
from actions.leaving import leave_async
from bot import clock
from bot.db import run_db
from bot.directory import present
from bot.handoff import HandoffError, outbox
from bot.handoff import conversation as talk
from bot.handoff.service import HandoffDraft, next_opening, submit, team_open_now
from bot.insights import demand
from bot.safety.detector import CRISIS_PREFIX
from bot.safety.lines import crisis_lines

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
# Questions of their own, asked in the middle of the form: the rules answer them, then
# the form asks its question again.
ASIDES = {"ask_privacy", "forget_me", "explain_term", "ask_capabilities", "request_human"}
# The second unusable answer to a question offers to skip it or stop; the third gives
# up on it (skips it, or for a yes-or-no question ends the form), so no question loops.
OFFER_AT = 2
GIVE_UP_AT = 3
YES_OR_NO = ("utter_handoff_yes_or_no", "utter_form_stuck_yes_no")


def _answering(tracker: Tracker, slot: str) -> bool:
    """The person is answering this question: not in crisis, not asking something else."""
    intent = latest_intent(tracker) or ""
    return (
        tracker.get_slot("requested_slot") == slot
        and not intent.startswith(CRISIS_PREFIX)
        and sure_intent(tracker) not in ASIDES
    )


def _crisis_lines(session: Session) -> str:
    """The general crisis lines (111 first): few enough for a phone screen."""
    return "\n".join(present.contact_answer(v) for v in crisis_lines(session))


def _submit(session: Session, draft: HandoffDraft, key: str) -> tuple[str, bool, str]:
    """Stores the request; returns the organisation, whether its team is a sample, and
    when they will be in touch."""
    request = submit(session, draft, key)
    demand.record_handoff(session, draft.conversation_id, draft.need)
    team = request.team
    now = clock.now()
    return (
        team.organization.name,
        team.is_sample,
        talk.when_phrase(team_open_now(team, now), next_opening(team, now)),
    )


def _retry(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    slot: str,
    hints: tuple[str, str],
) -> dict[str, Any] | None:
    """An answer the question cannot use: the hint (``hints[0]``) the first time, the offer
    to skip or stop (``hints[1]``) the second; None the third time: the caller gives up.

    Setting the slot (to nothing) tells Rasa the answer was read, so the form
    asks again instead of handing the message to the fallback rules.
    """
    tries = tries_at(tracker, slot)
    if tries >= GIVE_UP_AT:
        return None
    dispatcher.utter_message(response=hints[0] if tries < OFFER_AT else hints[1])
    return {slot: None}


def _skipped(dispatcher: CollectingDispatcher, slot: str) -> dict[str, Any]:
    dispatcher.utter_message(response="utter_form_skipped")
    return {slot: talk.SKIPPED}


def _chat_instead(dispatcher: CollectingDispatcher) -> dict[str, Any]:
    dispatcher.utter_message(response="utter_handoff_chat_instead")
    return {"handoff_contact_method": "chat", "handoff_contact_detail": None}


def _other_answer(tracker: Tracker, asked: str) -> dict[str, Any]:
    """An answer to another question of the form ("me" where the place was asked, "text
    me" where the name was): kept, and the question asked is asked again. Not past the
    tries a question gets, so a repeated one cannot loop."""
    if tries_at(tracker, asked) >= GIVE_UP_AT:
        return {}
    text = text_of(tracker)
    whom = talk.whom_only(text)
    if whom and asked != "handoff_for":
        return {"handoff_for": whom}
    method = talk.method_only(text)
    if method:
        return {"handoff_contact_method": method, "handoff_contact_detail": None}
    given = talk.contact_given(tracker.get_slot("handoff_contact_method"), text)
    if given:
        return {"handoff_contact_method": given[0], "handoff_contact_detail": given[1]}
    return {}


def _place_spans(tracker: Tracker) -> list[tuple[int, int]]:
    return [
        (e["start"], e["end"])
        for e in tracker.latest_message.get("entities", [])
        if e.get("entity") == "place" and e.get("start") is not None
    ]


def _place_before_message(tracker: Tracker) -> Any:
    """The place as it was before the latest message (mapped from its entities)."""
    seen_message = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_message = True
        elif seen_message and event.get("event") == "slot" and event.get("name") == "place":
            return event.get("value")
    return None


class ValidateHandoffForm(LeavableForm, PlaceSlot, FormValidationAction):
    """Asks only what the referral needs, in order, each question once; most can be skipped.

    Every question reads its own answers (typed or a button), recognises an
    answer to another question and keeps it, and never loops; "stop" or "just
    give me a number" leaves at any question (``LeavableForm``).
    """

    def name(self) -> str:
        return "validate_handoff_form"

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The next question: the first unanswered one the referral needs.

        Every slot of the form stays required (the SDK then keeps an answer that
        clears a question no longer asked, like the number once "chat here" is
        chosen); this decides what is asked. A no to consent or to the read-back
        ends the form.
        """
        if (
            tracker.get_slot("handoff_consent") is False
            or tracker.get_slot("handoff_confirmed") is False
        ):
            return SlotSet(REQUESTED_SLOT, None)
        method = tracker.get_slot("handoff_contact_method")
        skip = set()
        if method not in NEEDS_DETAIL:
            skip.add("handoff_contact_detail")
        if method == "chat":
            skip.add("handoff_good_time")
        missing = (s for s in FORM_SLOTS if s not in skip and tracker.get_slot(s) is None)
        return SlotSet(REQUESTED_SLOT, next(missing, None))

    def validate_place(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Where the name was asked, a name that is also a town ("Moana", "Ross") is a name:
        the place stays as it was."""
        if tracker.get_slot("requested_slot") == "handoff_name" and self._name(tracker):
            return {"place": _place_before_message(tracker)}
        return super().validate_place(slot_value, dispatcher, tracker, domain)

    @staticmethod
    def _name(tracker: Tracker) -> str | None:
        """The name in the message, unless it only says where ("I'm in Greymouth")."""
        if talk.is_only_place(text_of(tracker), _place_spans(tracker), bare=False):
            return None
        return talk.preferred_name(text_of(tracker))

    def extract_handoff_consent(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not _answering(tracker, "handoff_consent"):
            return {}
        answer = talk.yes_or_no(text_of(tracker), sure_intent(tracker))
        if answer is None:
            return _retry(dispatcher, tracker, "handoff_consent", YES_OR_NO) or {
                "handoff_consent": False
            }
        return {"handoff_consent": answer}

    def extract_handoff_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not _answering(tracker, "handoff_name"):
            return {}
        text = text_of(tracker)
        if talk.is_skip(text, sure_intent(tracker)) or talk.is_go_ahead(text):
            return {"handoff_name": talk.SKIPPED}
        other = _other_answer(tracker, "handoff_name")
        if other:
            return other
        name = self._name(tracker)
        if name is None and _place_spans(tracker):
            return {}  # only a place: kept by its mapping, and the name is asked again
        if name is None:
            hints = ("utter_handoff_name_again", "utter_form_stuck")
            return _retry(dispatcher, tracker, "handoff_name", hints) or _skipped(
                dispatcher, "handoff_name"
            )
        return {"handoff_name": name}

    def extract_handoff_contact_method(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not _answering(tracker, "handoff_contact_method"):
            return {}
        text = text_of(tracker)
        method = talk.contact_method(text)
        if method is not None:
            return {"handoff_contact_method": method}
        given = talk.contact_given(None, text)
        if given:
            return {"handoff_contact_method": given[0], "handoff_contact_detail": given[1]}
        if talk.is_skip(text, sure_intent(tracker)) or talk.is_go_ahead(text):
            return {"handoff_contact_method": "chat"}
        hints = ("utter_handoff_method_again", "utter_form_stuck")
        return _retry(dispatcher, tracker, "handoff_contact_method", hints) or _chat_instead(
            dispatcher
        )

    def extract_handoff_contact_detail(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not _answering(tracker, "handoff_contact_detail"):
            return {}
        method = tracker.get_slot("handoff_contact_method")
        text = text_of(tracker)
        if talk.is_skip(text, sure_intent(tracker)) or talk.is_go_ahead(text):
            return _chat_instead(dispatcher)
        detail = talk.contact_detail(method, text)
        if detail is not None:
            return {"handoff_contact_detail": detail}
        other = talk.method_only(text)
        if other is not None and other != method:
            return {"handoff_contact_method": other}  # "actually, email me": asked again
        again = "utter_handoff_email_again" if method == "email" else "utter_handoff_phone_again"
        hints = (again, "utter_form_stuck")
        return _retry(dispatcher, tracker, "handoff_contact_detail", hints) or _chat_instead(
            dispatcher
        )

    def extract_handoff_good_time(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not _answering(tracker, "handoff_good_time"):
            return {}
        text = text_of(tracker)
        other = _other_answer(tracker, "handoff_good_time")
        if other:
            return other
        if (
            talk.is_skip(text, sure_intent(tracker))
            or talk.is_reply_word(text)
            or talk.is_only_place(text, _place_spans(tracker), bare=True)
        ):
            return {"handoff_good_time": talk.SKIPPED}
        return {"handoff_good_time": talk.good_time(text) or talk.SKIPPED}

    def extract_place(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A place comes from the entity mapping; an answer to another question is kept
        and the place asked again; anything else here skips the question."""
        if not _answering(tracker, "place") or entity_values(tracker, "place"):
            return {}
        if talk.is_go_ahead(text_of(tracker)):
            return {"place": talk.SKIPPED}
        return _other_answer(tracker, "place") or {"place": talk.SKIPPED}

    def extract_handoff_for(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not _answering(tracker, "handoff_for"):
            return {}
        text = text_of(tracker)
        if talk.is_skip(text, sure_intent(tracker)) or talk.is_go_ahead(text):
            return {"handoff_for": talk.SKIPPED}
        other = _other_answer(tracker, "handoff_for")
        if other:
            return other
        who = talk.who_for(text) or tracker.get_slot("audience")
        return {"handoff_for": who or talk.SKIPPED}

    def extract_handoff_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Yes sends; "change the number" asks that again; an answer to a question
        ("for my son", a new number, a town) is kept and everything read back again."""
        if not _answering(tracker, "handoff_confirmed"):
            return {}
        text = text_of(tracker)
        change = talk.to_change(text)
        if change is not None:
            dispatcher.utter_message(response="utter_handoff_change")
            return {slot: None for slot in (*change, "handoff_confirmed")}
        other = _other_answer(tracker, "handoff_confirmed")
        if other or _place_spans(tracker):
            return {**other, "handoff_confirmed": None}
        answer = talk.yes_or_no(text, sure_intent(tracker))
        if answer is None:
            return _retry(dispatcher, tracker, "handoff_confirmed", YES_OR_NO) or {
                "handoff_confirmed": False
            }
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
    """Stores the request (or keeps it for retry), then says who will be in touch and when;
    or, when the form ended without a yes, says that nothing was sent."""

    def name(self) -> str:
        return "action_submit_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        await demand.note_handoff_asked(tracker)
        if tracker.get_slot(LEFT_SLOT):
            return await leave_async(dispatcher, tracker, domain)
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
            org, sample, when = await run_db(_submit, draft, key)
        except HandoffError as exc:
            dispatcher.utter_message(response="utter_handoff_invalid", problem=str(exc))
            return reset
        except SQLAlchemyError as exc:
            # Not log.exception: the error text can hold the statement's parameters.
            log.error("database error (%s); handoff request kept for retry", type(exc).__name__)
            await asyncio.to_thread(outbox.keep, draft, key)  # file I/O, off the loop too
            dispatcher.utter_message(response="utter_handoff_kept")
            return reset
        await asyncio.to_thread(outbox.discard, draft, key)  # a copy kept by an earlier try
        contact = talk.method_phrase(draft.contact_method, draft.contact_detail)
        if sample:  # no real navigator will read it: say so, and where help is now
            dispatcher.utter_message(
                response="utter_handoff_sent_sample", organisation=org, contact=contact
            )
            return reset
        dispatcher.utter_message(
            response="utter_handoff_sent", organisation=org, contact=contact, when=when
        )
        lines = await run_db(_crisis_lines)
        dispatcher.utter_message(response="utter_handoff_if_urgent", lines=lines)
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
        method = tracker.get_slot("handoff_contact_method") or "chat"
        return HandoffDraft(
            conversation_id=tracker.sender_id,
            channel=tracker.get_latest_input_channel() or "rest",
            contact_method=method,
            consent=True,
            need=tracker.get_slot("need"),
            need_summary=talk.need_summary(
                tracker.get_slot("need"), tracker.get_slot("place"), who
            ),
            place_key=tracker.get_slot("place") or None,
            audience=audience,
            preferred_name=tracker.get_slot("handoff_name") or None,
            contact_detail=(
                tracker.get_slot("handoff_contact_detail") if method in NEEDS_DETAIL else None
            ),
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
