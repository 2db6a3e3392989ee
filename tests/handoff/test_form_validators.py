"""The handoff form's actions one step at a time, against recorded trackers.

Each test builds the tracker Rasa sends the action server at that step
(``Tracker.from_dict``: the slots so far, the question being asked, the
person's latest message and the events before it) and runs one method or
action with a ``CollectingDispatcher``, the way Rasa's example bots test their
actions. ``tests/handoff/test_form_steps.py`` follows whole conversations
through the form; this file pins down what each step returns and says.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.handoff
from actions.common import LEFT_SLOT
from actions.handoff import (
    ActionAskHandoffConfirmed,
    ActionHandoffClaimed,
    ActionHandoffEscalated,
    ActionNavigatorJoined,
    ActionNavigatorLeft,
    ActionNavigatorMessage,
    ActionSubmitHandoff,
    ValidateHandoffForm,
)
from bot.config import ROOT
from bot.handoff import HandoffError
from bot.handoff.conversation import SKIPPED, STOP

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
FORM = ValidateHandoffForm()
ANSWERED = {  # a phone call for Mere's whānau in Greymouth, answered up to the read-back
    "handoff_consent": True,
    "handoff_name": "Mere",
    "handoff_contact_method": "call",
    "handoff_contact_detail": "+64211234567",
    "handoff_good_time": "after 3pm",
    "place": "greymouth",
    "handoff_for": "whanau",
    "need": "drugs_alcohol",
}
AT_READ_BACK = {**ANSWERED, "handoff_confirmed": None}


def said(dispatcher: CollectingDispatcher) -> list[str]:
    """The responses the action uttered, by name (the one place that reads messages)."""
    return [message.get("response") or message.get("text") for message in dispatcher.messages]


def filled(dispatcher: CollectingDispatcher, response: str) -> dict[str, Any]:
    """The values an uttered response was filled with."""
    return next(m for m in dispatcher.messages if (m.get("response") or m.get("text")) == response)


def recorded(
    asked: str | None,
    text: str = "",
    intent: str = "inform",
    confidence: float = 0.9,
    slots: dict[str, Any] | None = None,
    tries_before: int = 0,
    place: str | None = None,
) -> Tracker:
    """The tracker at a step: ``asked`` being asked, ``tries_before`` unusable answers to it
    already given, and the latest message (with a place entity if ``place`` is in it)."""
    entities = []
    if place is not None:
        start = text.lower().index(place.lower())
        entities = [{"entity": "place", "value": place, "start": start, "end": start + len(place)}]
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities,
    }
    events: list[dict[str, Any]] = [
        {"event": "slot", "timestamp": 1.0, "name": name, "value": value}
        for name, value in (slots or {}).items()
    ]
    events.append({"event": "slot", "timestamp": 2.0, "name": "requested_slot", "value": asked})
    for i in range(tries_before):
        events.append({"event": "user", "timestamp": 3.0 + i, "text": "hmm", "parse_data": {}})
    events.append({"event": "user", "timestamp": 9.0, "text": text, "parse_data": message})
    return Tracker.from_dict(
        {
            "sender_id": "conv-validators",
            "slots": {**(slots or {}), "requested_slot": asked},
            "latest_message": message,
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": "handoff_form"},
            "latest_action_name": "action_listen",
        }
    )


def extract(step: str, tracker: Tracker) -> tuple[dict[str, Any], list[str]]:
    """What the form's extraction for ``step`` returns and says for this tracker."""
    dispatcher = CollectingDispatcher()
    result = getattr(FORM, f"extract_{step}")(dispatcher, tracker, DOMAIN)
    return result, said(dispatcher)


def run(action: Any, tracker: Tracker) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    return asyncio.run(action.run(dispatcher, tracker, DOMAIN)), dispatcher


def slots_set(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


# --- Consent -------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["sweet as", "yep", "ok", "send it", "yes send"])
def test_consent_typed_yes(typed):
    tracker = recorded("handoff_consent", typed, "nlu_fallback", 0.2)
    assert extract("handoff_consent", tracker) == ({"handoff_consent": True}, [])


@pytest.mark.parametrize("typed", ["nah", "not now"])
def test_consent_typed_no(typed):
    tracker = recorded("handoff_consent", typed, "nlu_fallback", 0.2)
    assert extract("handoff_consent", tracker) == ({"handoff_consent": False}, [])


@pytest.mark.parametrize(
    "tries_before, expected",
    [
        (0, ({"handoff_consent": None}, ["utter_handoff_yes_or_no"])),
        (1, ({"handoff_consent": None}, ["utter_form_stuck_yes_no"])),
        (2, ({"handoff_consent": False}, [])),  # the third time: no consent, no loop
    ],
)
def test_consent_neither_yes_nor_no(tries_before, expected):
    tracker = recorded("handoff_consent", "what do you mean", tries_before=tries_before)
    assert extract("handoff_consent", tracker) == expected


@pytest.mark.parametrize(
    "asked, intent",
    [
        ("handoff_name", "affirm"),  # another question is being asked
        ("handoff_consent", "crisis_suicide"),
        ("handoff_consent", "ask_privacy"),  # a question of its own: the rules answer it
    ],
)
def test_consent_is_not_read_from_another_step_a_crisis_or_an_aside(asked, intent):
    assert extract("handoff_consent", recorded(asked, "yes", intent)) == ({}, [])


# --- Name ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("Mere", {"handoff_name": "Mere"}),
        ("kia ora, I'm Aroha", {"handoff_name": "Aroha"}),
        ("skip", {"handoff_name": SKIPPED}),
        ("nah", {"handoff_name": SKIPPED}),
        ("send it", {"handoff_name": SKIPPED}),
        ("text me", {"handoff_contact_method": "text", "handoff_contact_detail": None}),
        ("for my son", {"handoff_for": "rangatahi"}),
        (
            "021 123 4567",
            {"handoff_contact_method": "call", "handoff_contact_detail": "+64211234567"},
        ),
    ],
)
def test_name_answers_and_answers_to_other_questions(typed, expected):
    tracker = recorded("handoff_name", typed, slots={"handoff_consent": True})
    assert extract("handoff_name", tracker) == (expected, [])


def test_a_yes_is_no_name_the_name_is_asked_again_then_skipped():
    asked = {"handoff_consent": True}
    tracker = recorded("handoff_name", "ok", "affirm", slots=asked)
    assert extract("handoff_name", tracker) == (
        {"handoff_name": None},
        ["utter_handoff_name_again"],
    )
    tracker = recorded("handoff_name", "ok", "affirm", slots=asked, tries_before=2)
    assert extract("handoff_name", tracker) == (
        {"handoff_name": SKIPPED},
        ["utter_form_skipped"],
    )


def test_only_a_place_where_the_name_was_asked_leaves_the_name_open():
    tracker = recorded("handoff_name", "I'm in Greymouth", place="Greymouth")
    assert extract("handoff_name", tracker) == ({}, [])


# --- How to be contacted ----------------------------------------------------------


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("text me", {"handoff_contact_method": "text"}),
        ("call me", {"handoff_contact_method": "call"}),
        ("email", {"handoff_contact_method": "email"}),
        ("chat here", {"handoff_contact_method": "chat"}),
        (
            "027 555 0199",
            {"handoff_contact_method": "call", "handoff_contact_detail": "+64275550199"},
        ),
        (
            "aroha@example.org",
            {"handoff_contact_method": "email", "handoff_contact_detail": "aroha@example.org"},
        ),
        ("skip", {"handoff_contact_method": "chat"}),
        ("not now", {"handoff_contact_method": "chat"}),
    ],
)
def test_contact_method(typed, expected):
    assert extract("handoff_contact_method", recorded("handoff_contact_method", typed)) == (
        expected,
        [],
    )


def test_no_method_asks_again_then_keeps_chatting_here():
    tracker = recorded("handoff_contact_method", "whatever works")
    assert extract("handoff_contact_method", tracker) == (
        {"handoff_contact_method": None},
        ["utter_handoff_method_again"],
    )
    tracker = recorded("handoff_contact_method", "whatever works", tries_before=2)
    assert extract("handoff_contact_method", tracker) == (
        {"handoff_contact_method": "chat", "handoff_contact_detail": None},
        ["utter_handoff_chat_instead"],
    )


# --- The number or email --------------------------------------------------------


@pytest.mark.parametrize(
    "method, typed, detail",
    [
        ("call", "021 123 4567", "+64211234567"),
        ("text", "+64 27 555 0199", "+64275550199"),
        ("email", "Aroha@Example.org", "Aroha@Example.org"),
    ],
)
def test_a_valid_number_or_email_is_kept(method, typed, detail):
    tracker = recorded("handoff_contact_detail", typed, slots={"handoff_contact_method": method})
    assert extract("handoff_contact_detail", tracker) == ({"handoff_contact_detail": detail}, [])


@pytest.mark.parametrize(
    "method, typed, hint",
    [
        ("call", "12345", "utter_handoff_phone_again"),
        ("text", "my usual one", "utter_handoff_phone_again"),
        ("email", "aroha at example", "utter_handoff_email_again"),
        ("email", "021 123 4567", "utter_handoff_email_again"),
    ],
)
def test_an_invalid_number_or_email_is_asked_again(method, typed, hint):
    tracker = recorded("handoff_contact_detail", typed, slots={"handoff_contact_method": method})
    assert extract("handoff_contact_detail", tracker) == ({"handoff_contact_detail": None}, [hint])
    tracker = recorded(
        "handoff_contact_detail", typed, slots={"handoff_contact_method": method}, tries_before=1
    )
    assert extract("handoff_contact_detail", tracker)[1] == ["utter_form_stuck"]


@pytest.mark.parametrize("typed", ["skip", "nah", "not now", "send it"])
def test_declining_the_number_keeps_chatting_here(typed):
    tracker = recorded("handoff_contact_detail", typed, slots={"handoff_contact_method": "text"})
    assert extract("handoff_contact_detail", tracker) == (
        {"handoff_contact_method": "chat", "handoff_contact_detail": None},
        ["utter_handoff_chat_instead"],
    )


def test_another_method_instead_of_the_number_asks_for_that():
    tracker = recorded(
        "handoff_contact_detail", "actually email me", slots={"handoff_contact_method": "text"}
    )
    assert extract("handoff_contact_detail", tracker) == ({"handoff_contact_method": "email"}, [])


# --- A good time, the place, who it is for ----------------------------------------


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("after 3pm", {"handoff_good_time": "after 3pm"}),
        ("ok", {"handoff_good_time": SKIPPED}),
        ("skip", {"handoff_good_time": SKIPPED}),
        ("for my mum", {"handoff_for": "whanau"}),
        ("text me", {"handoff_contact_method": "text", "handoff_contact_detail": None}),
    ],
)
def test_good_time(typed, expected):
    tracker = recorded("handoff_good_time", typed, slots={"handoff_contact_method": "call"})
    assert extract("handoff_good_time", tracker) == (expected, [])


@pytest.mark.parametrize(
    "typed, place, expected",
    [
        ("Greymouth", "Greymouth", {}),  # the entity mapping fills it
        ("send it", None, {"place": SKIPPED}),
        ("dunno", None, {"place": SKIPPED}),
        ("me", None, {"handoff_for": "self"}),
    ],
)
def test_place(typed, place, expected):
    assert extract("place", recorded("place", typed, place=place)) == (expected, [])


@pytest.mark.parametrize(
    "typed, slots, expected",
    [
        ("my son", {}, {"handoff_for": "rangatahi"}),
        ("skip", {}, {"handoff_for": SKIPPED}),
        ("hmm", {"audience": "tamariki"}, {"handoff_for": "tamariki"}),
        ("hmm", {}, {"handoff_for": SKIPPED}),
    ],
)
def test_who_it_is_for(typed, slots, expected):
    assert extract("handoff_for", recorded("handoff_for", typed, slots=slots)) == (expected, [])


# --- The read-back -----------------------------------------------------------------


@pytest.mark.parametrize("typed", ["sweet as", "yep", "ok", "send it", "yes send"])
def test_read_back_typed_yes_sends(typed):
    tracker = recorded("handoff_confirmed", typed, "nlu_fallback", 0.2, slots=AT_READ_BACK)
    assert extract("handoff_confirmed", tracker) == ({"handoff_confirmed": True}, [])


@pytest.mark.parametrize("typed", ["nah", "not now"])
def test_read_back_typed_no_sends_nothing(typed):
    tracker = recorded("handoff_confirmed", typed, "deny", slots=AT_READ_BACK)
    assert extract("handoff_confirmed", tracker) == ({"handoff_confirmed": False}, [])


def test_change_the_number_asks_only_for_the_number():
    tracker = recorded("handoff_confirmed", "change the number", slots=AT_READ_BACK)
    assert extract("handoff_confirmed", tracker) == (
        {"handoff_contact_detail": None, "handoff_confirmed": None},
        ["utter_handoff_change"],
    )


def test_a_new_number_at_the_read_back_is_kept_and_read_back_again():
    tracker = recorded("handoff_confirmed", "027 555 0199", slots=AT_READ_BACK)
    assert extract("handoff_confirmed", tracker) == (
        {
            "handoff_contact_method": "call",
            "handoff_contact_detail": "+64275550199",
            "handoff_confirmed": None,
        },
        [],
    )


def test_neither_at_the_read_back_asks_then_gives_up_as_a_no():
    tracker = recorded("handoff_confirmed", "hmm", slots=AT_READ_BACK)
    assert extract("handoff_confirmed", tracker) == (
        {"handoff_confirmed": None},
        ["utter_handoff_yes_or_no"],
    )
    tracker = recorded("handoff_confirmed", "hmm", slots=AT_READ_BACK, tries_before=2)
    assert extract("handoff_confirmed", tracker) == ({"handoff_confirmed": False}, [])


# --- Which question is next, and leaving -------------------------------------------


@pytest.mark.parametrize(
    "slots, expected",
    [
        ({}, "handoff_consent"),
        ({"handoff_consent": False}, None),
        (
            {**ANSWERED, "handoff_contact_method": "chat", "handoff_good_time": None},
            "handoff_confirmed",
        ),
        ({**ANSWERED, "handoff_contact_detail": None}, "handoff_contact_detail"),
        ({**ANSWERED, "handoff_confirmed": False}, None),
    ],
)
def test_next_question(slots, expected):
    tracker = recorded(None, slots=slots)
    chosen = asyncio.run(FORM.next_requested_slot(CollectingDispatcher(), tracker, DOMAIN))
    assert chosen["value"] == expected


@pytest.mark.parametrize("asked", ["handoff_name", "handoff_contact_detail", "handoff_confirmed"])
def test_stop_leaves_the_form_at_any_question_and_keeps_nothing(asked):
    events, dispatcher = run(FORM, recorded(asked, "no. stop", slots=AT_READ_BACK))
    changed = slots_set(events)
    assert changed[LEFT_SLOT] == STOP and changed["requested_slot"] is None
    assert changed["handoff_name"] is None and changed["handoff_contact_detail"] is None
    assert said(dispatcher) == []


# --- Reading everything back ----------------------------------------------------------


def test_the_read_back_holds_every_answer_with_the_number_masked():
    events, dispatcher = run(
        ActionAskHandoffConfirmed(), recorded("handoff_confirmed", slots=ANSWERED)
    )
    assert events == [] and said(dispatcher) == ["utter_ask_handoff_confirmed"]
    summary = filled(dispatcher, "utter_ask_handoff_confirmed")["summary"]
    assert "Name: Mere" in summary and "Good time: after 3pm" in summary
    assert "Greymouth" in summary and "+64211234567" not in summary
    assert summary.splitlines()[2].startswith("Contact: a phone call on")


def test_the_read_back_of_a_skipped_name_and_a_chat():
    slots = {**ANSWERED, "handoff_name": SKIPPED, "handoff_contact_method": "chat"}
    slots.update(handoff_contact_detail=None, handoff_good_time=None)
    _, dispatcher = run(ActionAskHandoffConfirmed(), recorded("handoff_confirmed", slots=slots))
    summary = filled(dispatcher, "utter_ask_handoff_confirmed")["summary"]
    assert "Name: not given" in summary
    assert "Contact: a message here in this chat" in summary and "Good time" not in summary


# --- Sending ----------------------------------------------------------------------------


async def _no_database(fn, *args):
    """``run_db`` without a database: the stand-ins below take no session."""
    return fn(None, *args)


@pytest.fixture
def sent(monkeypatch) -> list[Any]:
    """The drafts handed to storage; the team is a real one, working now."""
    drafts: list[Any] = []

    def store(session, draft, key):
        drafts.append((draft, key))
        return "Poutini Waiora", False, "Their team is working now."

    monkeypatch.setattr(actions.handoff, "run_db", _no_database)
    monkeypatch.setattr(actions.handoff, "_submit", store)
    monkeypatch.setattr(actions.handoff, "_crisis_lines", lambda session: "111\n1737")
    return drafts


def _submit(slots: dict[str, Any]) -> tuple[dict[str, Any], CollectingDispatcher]:
    events, dispatcher = run(ActionSubmitHandoff(), recorded(None, "yes", slots=slots))
    return slots_set(events), dispatcher


def test_a_confirmed_request_is_sent_and_the_person_told_who_and_when(sent):
    changed, dispatcher = _submit({**ANSWERED, "handoff_confirmed": True})
    assert said(dispatcher) == ["utter_handoff_sent", "utter_handoff_if_urgent"]
    assert filled(dispatcher, "utter_handoff_sent")["organisation"] == "Poutini Waiora"
    assert filled(dispatcher, "utter_handoff_if_urgent")["lines"] == "111\n1737"
    [(draft, key)] = sent
    assert key == "conv-validators:9.0"
    assert draft.contact_detail == "+64211234567" and draft.audience == "whanau"
    assert draft.preferred_name == "Mere" and not draft.urgent
    assert all(value is None for name, value in changed.items() if name != "place")
    assert "place" not in changed  # the place is kept for later searches


def test_a_chat_request_for_oneself_keeps_no_number_and_no_audience(sent):
    slots = {**ANSWERED, "handoff_confirmed": True, "handoff_contact_method": "chat"}
    _submit({**slots, "handoff_for": "self", "crisis_category": "suicide"})
    [(draft, _)] = sent
    assert draft.contact_detail is None and draft.audience is None and draft.urgent


def test_a_sample_team_says_it_is_a_demonstration(sent, monkeypatch):
    monkeypatch.setattr(actions.handoff, "_submit", lambda s, d, k: ("Sample team", True, "now"))
    _, dispatcher = _submit({**ANSWERED, "handoff_confirmed": True})
    assert said(dispatcher) == ["utter_handoff_sent_sample"]


def test_a_request_the_service_refuses_says_why(sent, monkeypatch):
    def refuse(session, draft, key):
        raise HandoffError("that number is not a New Zealand number")

    monkeypatch.setattr(actions.handoff, "_submit", refuse)
    _, dispatcher = _submit({**ANSWERED, "handoff_confirmed": True})
    assert said(dispatcher) == ["utter_handoff_invalid"]
    assert filled(dispatcher, "utter_handoff_invalid")["problem"] == (
        "that number is not a New Zealand number"
    )


@pytest.mark.parametrize(
    "slots, response",
    [
        ({**ANSWERED, "handoff_consent": False}, "utter_handoff_no_consent"),
        ({**ANSWERED, "handoff_confirmed": False}, "utter_handoff_cancelled"),
        ({**ANSWERED, "handoff_confirmed": None}, "utter_handoff_cancelled"),
    ],
)
def test_nothing_is_sent_without_consent_and_a_yes(sent, slots, response):
    changed, dispatcher = _submit(slots)
    assert said(dispatcher) == [response] and sent == []
    assert changed["handoff_consent"] is None and changed["handoff_name"] is None


def test_a_form_left_with_stop_says_so_and_sends_nothing(sent):
    changed, dispatcher = _submit({LEFT_SLOT: STOP})
    assert said(dispatcher) == ["utter_form_stopped", "utter_free_lines"] and sent == []
    assert changed == {LEFT_SLOT: None}


# --- What the navigator says through the bot ------------------------------------------------


@pytest.mark.parametrize(
    "action, response",
    [
        (ActionHandoffClaimed(), "utter_handoff_claimed"),
        (ActionNavigatorJoined(), "utter_navigator_joined"),
        (ActionNavigatorMessage(), "utter_navigator_message"),
        (ActionHandoffEscalated(), "utter_handoff_escalated"),
        (ActionNavigatorLeft(), "utter_navigator_left"),
    ],
)
def test_navigator_actions_say_their_response_with_the_inbox_slots(action, response):
    slots = {
        "navigator_name": "Hemi",
        "navigator_org": "Poutini Waiora",
        "navigator_message": "Kia ora",
    }
    events, dispatcher = run(action, recorded(None, slots=slots))
    assert events == [] and said(dispatcher) == [response]
    values = filled(dispatcher, response)
    assert (values["navigator"], values["organisation"], values["message"]) == (
        "Hemi",
        "Poutini Waiora",
        "Kia ora",
    )
    _, dispatcher = run(action, recorded(None))
    values = filled(dispatcher, response)
    assert (values["navigator"], values["organisation"], values["message"]) == (
        "A navigator",
        "the navigation service",
        "",
    )
