"""The start and the answer of a search, done by the search form's validation (issue 11:
two calls to the action server and two predictions fewer than actions of their own).

At the form's start the need comes from the message (its intent, or a need word for a
general request), the last results are forgotten, and with no place known yet the reply
says what was understood before the place is asked. During the form, a request naming
a need starts afresh; a general one keeps the need when it answers the question.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import LEFT_SLOT
from actions.search import SEARCH_FORM, ValidateServiceSearchForm
from tests.handoff.test_form_steps import DOMAIN, FormChat, _slot


@pytest.fixture
def directory(seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    return seeded_url


def activate(
    text: str,
    intent: str,
    place: str | None = None,
    need_word: str | None = None,
    before: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[str | None]]:
    """Runs the validation as Rasa runs it when the form starts: the form's activation
    after the message, then the slots the domain's mappings filled as candidates."""
    entities = [{"entity": "place", "value": place}] if place else []
    if need_word:
        entities.append({"entity": "need", "value": need_word})
    parse = {"text": text, "intent": {"name": intent, "confidence": 0.95}, "entities": entities}
    earlier = {"need": "housing", "results": ["s1", "s2"], "focus_service": "s1", **(before or {})}
    mapped = {"place": place} if place else {}
    events = [
        *(_slot(name, value) for name, value in earlier.items()),
        {"event": "user", "text": text, "parse_data": parse},
        *(_slot(name, value) for name, value in mapped.items()),
        {"event": "active_loop", "name": SEARCH_FORM},
        _slot("requested_slot", None),
        {"event": "action", "name": SEARCH_FORM},
        *(_slot(name, value) for name, value in mapped.items()),
    ]
    slots = {**earlier, **mapped, "requested_slot": None}
    tracker = Tracker("test", slots, parse, events, False, None, {"name": SEARCH_FORM}, SEARCH_FORM)
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateServiceSearchForm().run(dispatcher, tracker, DOMAIN))
    changed = {e["name"]: e["value"] for e in result if e["event"] == "slot"}
    return changed, [message.get("response") for message in dispatcher.messages]


def test_a_need_with_a_place_starts_the_search_and_answers_it(directory: str) -> None:
    """Nothing left to ask: the form ends with the search's answer."""
    changed, said = activate("need help with drugs in greymouth", "need_drugs_alcohol", "greymouth")
    assert changed["need"] == "drugs_alcohol" and changed["place"] == "greymouth"
    assert changed["results"] and "s1" not in changed["results"], "this search's results"
    assert changed["focus_service"] is None and changed["requested_slot"] is None
    assert said == ["utter_results_regional", "utter_services", "utter_results_hint"]


def test_a_need_without_a_place_says_what_was_understood_first(directory: str) -> None:
    changed, said = activate("my son is on meth", "need_drugs_alcohol")
    assert changed["need"] == "drugs_alcohol" and "place" not in changed
    assert said == ["utter_need_understood_with_line"], "the drug helpline, then the place"


def test_a_general_request_takes_its_need_from_a_need_word(directory: str) -> None:
    changed, said = activate("can you help with kai", "need_help_general", need_word="money_food")
    assert changed["need"] == "money_food"
    assert said[0].startswith("utter_need_understood")


def test_a_general_request_naming_nothing_asks_what_kind_of_help(directory: str) -> None:
    changed, said = activate("i need some help", "need_help_general")
    assert changed["need"] is None and changed["results"] is None
    assert changed["requested_slot"] is None, "the form ends, asking the kind of help"
    assert said == ["utter_ask_need_kind"]


def test_kaupapa_maori_help_is_the_filter_too(directory: str) -> None:
    changed, _ = activate("any kaupapa maori services in hokitika", "need_cultural", "hokitika")
    assert changed["kaupapa_maori"] is True


def searching() -> FormChat:
    chat = FormChat(ValidateServiceSearchForm(), SEARCH_FORM, {"need": "housing"})
    assert chat.asked == "place"
    return chat


def test_a_new_need_during_the_form_starts_afresh_and_asks_the_place_again(
    directory: str,
) -> None:
    chat = searching().say("actually its more kai we need right now", intent="need_money_food")
    assert not chat.rejected, "a refused request for help would be run again by its rule"
    assert chat.slots["need"] == "money_food" and chat.asked == "place"
    assert chat.responses[0].startswith("utter_need_understood")


def test_a_new_need_with_its_place_during_the_form_searches_for_it(directory: str) -> None:
    chat = searching().say(
        "its drugs actually, in westport", intent="need_drugs_alcohol", place="westport"
    )
    assert chat.slots["need"] == "drugs_alcohol" and chat.slots["place"] == "westport"
    assert chat.asked is None and chat.responses[1] == "utter_services"


def test_a_general_request_answering_the_place_keeps_the_need(directory: str) -> None:
    chat = searching().say("greymouth please help", intent="need_help_general", place="greymouth")
    assert chat.slots["need"] == "housing" and chat.slots["place"] == "greymouth"
    assert chat.asked is None


def test_a_general_request_that_answers_nothing_starts_afresh(directory: str) -> None:
    chat = searching().say("can someone help me", intent="need_help_general")
    assert not chat.rejected
    assert chat.slots["need"] is None and chat.asked is None


def test_leaving_with_a_need_leaves_without_starting_again(directory: str) -> None:
    chat = searching().say("just give me a number for drugs", intent="need_drugs_alcohol")
    assert chat.asked is None and chat.slots[LEFT_SLOT] is None
    assert chat.slots["need"] == "housing"
    assert chat.responses == ["utter_form_stopped", "utter_helplines"]


def test_an_answer_during_the_form_does_not_start_again(directory: str) -> None:
    chat = searching().say("hokitika", place="hokitika")
    assert chat.slots["need"] == "housing" and chat.slots["place"] == "hokitika"
    assert chat.responses[0] != "utter_need_understood" and chat.slots["results"]


def test_carrying_on_after_crisis_help_restarts_the_form_and_keeps_the_search(
    directory: str,
) -> None:
    """The form starts again on "carry on" (a rule): the need asked before stays."""
    changed, said = activate("carry on", "resume", before={"need": "drugs_alcohol"})
    assert "need" not in changed and "results" not in changed
    assert said == []
