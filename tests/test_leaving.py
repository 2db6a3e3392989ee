"""After leaving a form: what the person is told, the numbers from the directory."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.leaving import ActionLeaveForm
from bot.config import ROOT
from bot.db import session_scope
from bot.directory.helplines import HELPLINES_FILE, helpline_ids
from bot.directory.query import get_services
from bot.directory.taxonomy import taxonomies

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture
def directory(seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    return seeded_url


def run(action: Any, slots: dict[str, Any], text: str = "", intent: str = "inform"):
    parse = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    events = [{"event": "user", "text": text, "parse_data": parse}]
    tracker = Tracker("t", slots, parse, events, False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    result = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    slots_set = {e["name"]: e["value"] for e in result if e["event"] == "slot"}
    return dispatcher.messages, slots_set


def test_stopping_a_form_says_nothing_was_passed_on_and_gives_the_free_lines():
    messages, slots = run(ActionLeaveForm(), {"form_left": "stop"})
    assert [m["response"] for m in messages] == ["utter_form_stopped", "utter_free_lines"]
    assert slots == {"form_left": None}


def test_a_number_request_in_a_form_gets_1737_and_the_line_for_the_need(directory):
    messages, _ = run(ActionLeaveForm(), {"form_left": "number", "need": "drugs_alcohol"})
    assert [m["response"] for m in messages] == ["utter_form_stopped", "utter_helplines"]
    lines = messages[1]["lines"]
    assert "Call 1737" in lines and "Text 1737" in lines
    assert "Alcohol Drug Helpline: Call 0800 787 797" in lines


def test_a_number_request_with_no_form_and_no_need_gets_1737(directory):
    messages, _ = run(ActionLeaveForm(), {}, "give me a number to ring", "ask_helpline")
    assert [m["response"] for m in messages] == ["utter_helplines"]
    assert messages[0]["lines"].startswith("1737 Need to talk?: Call 1737")


def test_stop_with_nothing_open_is_no_worries():
    messages, _ = run(ActionLeaveForm(), {}, "stop", "cancel")
    assert [m["response"] for m in messages] == ["utter_deny_no_context"]


def test_stop_after_a_crisis_paused_a_form_ends_it_and_clears_its_answers():
    slots = {"interrupted_form": "handoff_form", "handoff_consent": True, "handoff_name": "Mere"}
    messages, cleared = run(ActionLeaveForm(), slots, "stop", "cancel")
    assert [m["response"] for m in messages] == ["utter_form_stopped", "utter_free_lines"]
    assert cleared["interrupted_form"] is None
    assert cleared["handoff_name"] is None and cleared["handoff_consent"] is None


def test_every_helpline_is_a_free_national_phone_line_in_the_directory(directory):
    choice = yaml.safe_load(HELPLINES_FILE.read_text(encoding="utf-8"))
    assert set(choice["needs"]) <= set(taxonomies().needs)
    ids = {i for need in [None, *choice["needs"]] for i in helpline_ids(need)}
    with session_scope(directory) as session:
        views = get_services(session, sorted(ids))
    assert {v.id for v in views} == ids, "every id is a service in the directory"
    for view in views:
        assert view.phones and view.free and "nz" in view.area_keys, view.id
