"""The forms' steps, from recorded trackers: typed answers, answers to another question,
leaving at any question, and no question that loops.

Each message is run through the real validation action the way Rasa runs it: a
``rasa_sdk`` Tracker with the conversation so far, the form's ``requested_slot``,
and the slots the domain's entity mappings filled. What Rasa then does (ask the
next question, or hand a rejected message to the rules) is followed from the
events the action returns.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import LEFT_SLOT
from actions.handoff import FORM_SLOTS, ValidateHandoffForm
from actions.search import ValidateServiceSearchForm
from bot.config import ROOT
from bot.handoff.conversation import NUMBER, SKIPPED, STOP

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
CONSENTED = {"handoff_consent": True}


def _slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "timestamp": None, "name": name, "value": value}


class FormChat:
    """A conversation with one form, message by message."""

    def __init__(self, action: Any, form: str, slots: dict[str, Any] | None = None) -> None:
        self.action = action
        self.form = form
        self.slots: dict[str, Any] = dict(slots or {})
        self.events: list[dict[str, Any]] = [_slot(k, v) for k, v in self.slots.items()]
        self.asked: str | None = None
        self.responses: list[str] = []
        self.rejected = False
        self._ask(self._next_question())

    def say(
        self,
        text: str,
        intent: str = "inform",
        confidence: float = 0.9,
        place: str | None = None,
    ) -> FormChat:
        entities = []
        if place is not None:
            start = text.lower().index(place.lower())
            entities = [
                {"entity": "place", "value": place, "start": start, "end": start + len(place)}
            ]
        parse = {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities,
        }
        mapped = {"place": place} if place is not None else {}
        self.events.append({"event": "user", "text": text, "parse_data": parse})
        self.events += [_slot(k, v) for k, v in mapped.items()]  # the domain's mappings
        events = [
            *self.events,
            _slot("requested_slot", self.asked),
            {"event": "action", "name": self.form},
            *(_slot(k, v) for k, v in mapped.items()),
        ]
        slots = {**self.slots, **mapped, "requested_slot": self.asked}
        tracker = Tracker(
            "test", slots, parse, events, False, None, {"name": self.form}, "action_listen"
        )
        dispatcher = CollectingDispatcher()
        result = asyncio.run(self.action.run(dispatcher, tracker, DOMAIN))
        self.responses = [m.get("response") for m in dispatcher.messages]
        changed = {e["name"]: e["value"] for e in result if e["event"] == "slot"}
        # Rasa rejects the form when nothing but requested_slot was set: the rules answer.
        self.rejected = not mapped and not set(changed) - {"requested_slot"}
        if self.rejected:
            return self
        changed.pop("requested_slot", None)
        for name, value in changed.items():
            self.slots[name] = value
            self.events.append(_slot(name, value))
        ended = any(e["event"] == "slot" and e["name"] == LEFT_SLOT for e in result)
        self._ask(None if ended else self._next_question(result))
        return self

    def _next_question(self, result: list[dict[str, Any]] | None = None) -> str | None:
        """The slot the form asks next: the validation's choice, else Rasa's (the first
        empty slot the form requires)."""
        for event in result or []:
            if event["event"] == "slot" and event["name"] == "requested_slot":
                return event["value"]
        tracker = Tracker("test", self.slots, {}, self.events, False, None, {}, "")
        dispatcher = CollectingDispatcher()
        chosen = asyncio.run(self.action.next_requested_slot(dispatcher, tracker, DOMAIN))
        if chosen:
            return chosen["value"]
        domain_slots = DOMAIN["forms"][self.form]["required_slots"]
        required = asyncio.run(
            self.action.required_slots(domain_slots, dispatcher, tracker, DOMAIN)
        )
        return next((s for s in required if self.slots.get(s) is None), None)

    def _ask(self, slot: str | None) -> None:
        self.asked = slot
        self.events.append(_slot("requested_slot", slot))
        if slot:
            self.events.append({"event": "bot", "text": f"(asks {slot})"})


def handoff(**slots: Any) -> FormChat:
    return FormChat(ValidateHandoffForm(), "handoff_form", slots)


def at_step(step: str) -> FormChat:
    """The handoff form asking ``step``, everything before it answered (a phone call)."""
    answers = {
        "handoff_consent": True,
        "handoff_name": "Mere",
        "handoff_contact_method": "call",
        "handoff_contact_detail": "+64211234567",
        "handoff_good_time": SKIPPED,
        "place": "greymouth",
        "handoff_for": "self",
    }
    before = FORM_SLOTS[: FORM_SLOTS.index(step)]
    chat = handoff(**{slot: answers[slot] for slot in before})
    assert chat.asked == step
    return chat


# --- Typed answers (issue 16.3) -------------------------------------------------


@pytest.mark.parametrize("typed", ["sweet as", "yep", "ok", "āe", "yes please", "sure thing"])
def test_a_typed_yes_gives_consent(typed):
    chat = handoff().say(typed, intent="nlu_fallback", confidence=0.1)
    assert chat.slots["handoff_consent"] is True and chat.asked == "handoff_name"


@pytest.mark.parametrize(
    "typed", ["send it", "yes send", "yes send it", "sweet as", "yep all good"]
)
def test_a_typed_yes_at_the_read_back_sends(typed):
    chat = at_step("handoff_confirmed").say(typed, intent="nlu_fallback", confidence=0.1)
    assert chat.slots["handoff_confirmed"] is True and chat.asked is None
    assert "utter_handoff_yes_or_no" not in chat.responses


@pytest.mark.parametrize("typed", ["nah", "not now", "no thanks", "kāo", "yeah nah"])
def test_a_typed_no_declines_consent_and_the_read_back(typed):
    assert handoff().say(typed, intent="deny").slots["handoff_consent"] is False
    chat = at_step("handoff_confirmed").say(typed, intent="deny")
    assert chat.slots["handoff_confirmed"] is False


@pytest.mark.parametrize("typed", ["nah", "not now", "skip", "rather not"])
@pytest.mark.parametrize("step", ["handoff_name", "handoff_good_time", "handoff_for"])
def test_a_typed_no_skips_an_optional_question(step, typed):
    chat = at_step(step).say(typed, intent="deny")
    assert chat.slots[step] == SKIPPED and chat.asked != step


@pytest.mark.parametrize("typed", ["nah", "not now", "send it"])
def test_declining_the_number_keeps_chatting_here_instead(typed):
    chat = at_step("handoff_contact_detail").say(typed, intent="deny")
    assert chat.slots["handoff_contact_method"] == "chat"
    assert chat.responses == ["utter_handoff_chat_instead"]


@pytest.mark.parametrize("typed", ["ok", "yep", "sweet as", "thanks"])
def test_a_yes_is_not_a_name_or_a_time(typed):
    chat = at_step("handoff_name").say(typed, intent="affirm")
    assert chat.slots.get("handoff_name") is None and chat.asked == "handoff_name"
    assert chat.responses == ["utter_handoff_name_again"]
    chat = at_step("handoff_good_time").say(typed, intent="affirm")
    assert chat.slots["handoff_good_time"] == SKIPPED


def test_change_the_number_asks_only_for_the_number_again():
    chat = at_step("handoff_confirmed").say("change the number")
    assert chat.responses == ["utter_handoff_change"]
    assert chat.asked == "handoff_contact_detail"
    assert chat.slots["handoff_name"] == "Mere" and chat.slots["handoff_contact_method"] == "call"
    chat.say("027 555 0199")
    assert chat.slots["handoff_contact_detail"] == "+64275550199"
    assert chat.asked == "handoff_confirmed"


def test_change_on_its_own_goes_through_the_questions_again():
    chat = at_step("handoff_confirmed").say("change")
    assert chat.asked == "handoff_name" and chat.slots["handoff_consent"] is True


def test_the_whole_form_typed():
    chat = handoff()
    chat.say("sweet as").say("Mere").say("text me").say("021 123 4567").say("yep")
    assert chat.asked == "place"
    chat.say("Greymouth", place="Greymouth").say("for my son")
    assert chat.asked == "handoff_confirmed"
    chat.say("yes send it")
    assert chat.asked is None and chat.slots["handoff_confirmed"] is True
    assert chat.slots["handoff_contact_method"] == "text"
    assert chat.slots["handoff_for"] == "rangatahi" and chat.slots["place"] == "greymouth"


# --- An answer to another question ------------------------------------------------


def test_me_where_the_place_was_asked_then_send_it_never_asks_the_place_again():
    """The issue: "me" at the place question, then "send it", asked for the place again."""
    chat = at_step("place").say("me")
    assert chat.slots["handoff_for"] == "self" and chat.asked == "place"
    chat.say("send it", intent="affirm")
    assert chat.slots["place"] == SKIPPED
    assert chat.asked == "handoff_confirmed", "the read-back, not the place again"
    chat.say("send it", intent="affirm")
    assert chat.slots["handoff_confirmed"] is True and chat.asked is None


def test_a_skipped_place_stays_skipped_in_later_turns():
    chat = at_step("place").say("rather not say", intent="skip")
    assert chat.slots["place"] == SKIPPED and chat.asked == "handoff_for"
    chat.say("for me")
    assert chat.asked == "handoff_confirmed"


def test_text_me_where_the_name_was_asked_is_kept_and_the_name_asked_again():
    chat = handoff(**CONSENTED).say("text me")
    assert chat.slots["handoff_contact_method"] == "text" and chat.asked == "handoff_name"
    chat.say("Aroha")
    assert chat.slots["handoff_name"] == "Aroha"
    assert chat.asked == "handoff_contact_detail", "the method was already given"


def test_a_number_where_the_method_was_asked_is_a_call_on_that_number():
    chat = at_step("handoff_contact_method").say("021 123 4567")
    assert chat.slots["handoff_contact_method"] == "call"
    assert chat.slots["handoff_contact_detail"] == "+64211234567"
    assert chat.asked == "handoff_good_time"


def test_a_correction_at_the_read_back_is_kept_and_read_back_again():
    chat = at_step("handoff_confirmed").say("no its for my son", intent="deny")
    assert chat.slots["handoff_for"] == "rangatahi" and chat.asked == "handoff_confirmed"
    assert chat.slots.get("handoff_confirmed") is None


def test_a_town_where_the_name_was_asked_is_the_place():
    chat = handoff(**CONSENTED, place="westport").say("im in Greymouth", place="Greymouth")
    assert chat.slots["place"] == "greymouth" and chat.asked == "handoff_name"


def test_a_name_that_is_also_a_town_is_a_name():
    chat = handoff(**CONSENTED, place="westport").say("Moana", place="Moana")
    assert chat.slots["handoff_name"] == "Moana" and chat.slots["place"] == "westport"


# --- Leaving at any question (issue 17.6) -------------------------------------------


LEAVING = [
    ("no. stop", "deny", STOP),
    ("cancel", "cancel", STOP),
    ("forget it", "nlu_fallback", STOP),
    ("nah forget it", "deny", STOP),
    ("im done", "goodbye", STOP),
    ("kāti", "nlu_fallback", STOP),
    ("heoi anō", "nlu_fallback", STOP),
    ("give me a number to ring", "ask_contact", NUMBER),
    ("I just want a number", "nlu_fallback", NUMBER),
]


@pytest.mark.parametrize(("text", "intent", "why"), LEAVING)
@pytest.mark.parametrize("step", FORM_SLOTS)
def test_leaving_at_any_handoff_question_ends_the_form_and_keeps_nothing(step, text, intent, why):
    chat = at_step(step).say(text, intent=intent, confidence=0.3)
    assert chat.slots[LEFT_SLOT] == why and chat.asked is None
    assert all(chat.slots.get(slot) is None for slot in FORM_SLOTS), "nothing is kept"
    assert chat.responses == [], "action_leave_form says it, after the form"


@pytest.mark.parametrize(("text", "intent", "why"), LEAVING)
def test_leaving_where_the_search_asks_the_place(text, intent, why, seeded_url, monkeypatch):
    """The form says so as it ends (it answers as it ends: no action after it)."""
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    chat = FormChat(ValidateServiceSearchForm(), "service_search_form", {"need": "housing"})
    assert chat.asked == "place"
    chat.say(text, intent=intent, confidence=0.3)
    assert chat.asked is None and chat.slots["place"] is None
    assert chat.slots[LEFT_SLOT] is None, "said, then forgotten"
    lines = "utter_helplines" if why == NUMBER else "utter_free_lines"
    assert chat.responses == ["utter_form_stopped", lines]
    assert chat.slots["need"] == "housing", "the need picks the line to ring"


def test_a_sure_cancel_or_number_intent_leaves_whatever_the_words():
    assert at_step("handoff_name").say("ok im out", intent="cancel").slots[LEFT_SLOT] == STOP
    chat = at_step("handoff_name").say("who can help now", intent="ask_helpline")
    assert chat.slots[LEFT_SLOT] == NUMBER


@pytest.mark.parametrize(
    ("text", "intent", "confidence"),
    [("send it", "cancel", 0.9), ("change the number", "ask_helpline", 0.9), ("ok", "cancel", 0.6)],
)
def test_the_words_of_an_answer_beat_a_leaving_intent(text, intent, confidence):
    chat = at_step("handoff_confirmed").say(text, intent=intent, confidence=confidence)
    assert LEFT_SLOT not in chat.slots


def test_a_leaving_intent_the_model_is_not_sure_of_does_not_leave():
    chat = at_step("handoff_good_time").say("after work", intent="cancel", confidence=0.6)
    assert LEFT_SLOT not in chat.slots and chat.slots["handoff_good_time"] == "after work"


def test_skip_skips_the_question_and_no_at_consent_is_no_consent():
    chat = at_step("handoff_name").say("skip", intent="skip")
    assert chat.slots["handoff_name"] == SKIPPED and LEFT_SLOT not in chat.slots
    chat = handoff().say("no", intent="deny")
    assert chat.slots["handoff_consent"] is False and LEFT_SLOT not in chat.slots


def test_stop_words_inside_an_answer_are_not_leaving():
    chat = handoff(**CONSENTED).say("stop the bot i want a real person", intent="request_human")
    assert chat.rejected and LEFT_SLOT not in chat.slots  # the rules answer it
    chat = at_step("handoff_contact_detail").say("i dont want a number, email me")
    assert LEFT_SLOT not in chat.slots


def test_a_crisis_is_never_read_as_leaving_or_as_an_answer():
    chat = at_step("handoff_good_time").say("i want to stop living", intent="crisis_suicide")
    assert chat.rejected and LEFT_SLOT not in chat.slots


@pytest.mark.parametrize("intent", ["ask_privacy", "forget_me", "explain_term"])
def test_a_question_of_its_own_is_left_to_the_rules(intent):
    chat = at_step("handoff_name").say("is this private?", intent=intent)
    assert chat.rejected and chat.slots.get("handoff_name") is None


# --- No question loops -------------------------------------------------------------


def test_a_second_unusable_answer_offers_to_skip_or_stop_and_a_third_skips():
    chat = at_step("handoff_name").say("???", intent="nonsense")
    assert chat.responses == ["utter_handoff_name_again"] and chat.asked == "handoff_name"
    chat.say("12 34", intent="nonsense")
    assert chat.responses == ["utter_form_stuck"] and chat.asked == "handoff_name"
    chat.say("!!!", intent="nonsense")
    assert chat.responses == ["utter_form_skipped"]
    assert chat.slots["handoff_name"] == SKIPPED and chat.asked == "handoff_contact_method"


def test_an_unusable_number_three_times_keeps_chatting_here_instead():
    chat = at_step("handoff_contact_detail")
    for _ in range(2):
        chat.say("12345", intent="nonsense")
    assert chat.responses == ["utter_form_stuck"]
    chat.say("12345", intent="nonsense")
    assert chat.responses == ["utter_handoff_chat_instead"]
    assert chat.slots["handoff_contact_method"] == "chat"


@pytest.mark.parametrize(
    ("step", "gives_up_as"), [("handoff_consent", False), ("handoff_confirmed", False)]
)
def test_a_yes_or_no_question_gives_up_as_a_no(step, gives_up_as):
    chat = at_step(step).say("hmm what", intent="nlu_fallback", confidence=0.1)
    assert chat.responses == ["utter_handoff_yes_or_no"]
    chat.say("what do u mean", intent="nlu_fallback", confidence=0.1)
    assert chat.responses == ["utter_form_stuck_yes_no"]
    chat.say("eh", intent="nlu_fallback", confidence=0.1)
    assert chat.slots[step] is gives_up_as and chat.asked is None


def test_the_count_starts_again_at_each_question():
    chat = at_step("handoff_name").say("???", intent="nonsense").say("Mere")
    assert chat.asked == "handoff_contact_method"
    chat.say("???", intent="nonsense")
    assert chat.responses == ["utter_handoff_method_again"], "a first miss at this question"


def test_changing_how_to_be_contacted_asks_for_the_number_again():
    chat = at_step("handoff_confirmed").say("change how they contact me")
    assert chat.asked == "handoff_contact_method"
    assert chat.slots["handoff_contact_detail"] is None, "the old number is not kept"
    chat.say("text me")
    assert chat.asked == "handoff_contact_detail"
