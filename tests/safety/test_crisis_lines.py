"""One choice of crisis lines (bot/safety/lines.py) for the crisis answer, the handoff and SMS."""

from __future__ import annotations

import asyncio

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.crisis import ActionCrisisResponse
from bot.channels.sms import replies
from bot.config import DATA_DIR
from bot.db import session_scope
from bot.directory import present
from bot.safety.detector import CATEGORIES
from bot.safety.lines import FALLBACK_CATEGORY, crisis_line_ids, crisis_lines

LISTED = yaml.safe_load((DATA_DIR / "safety" / "crisis_responses.yml").read_text("utf-8"))


def test_with_no_kind_the_general_lines_come_111_first():
    assert crisis_line_ids() == ("emergency-111", "need-to-talk-1737")
    assert crisis_line_ids(None) == tuple(LISTED["general"]["services"])


def test_sms_help_names_the_general_lines():
    assert crisis_line_ids() == replies.HELP_SERVICES


@pytest.mark.parametrize("category", CATEGORIES)
def test_each_kind_has_its_lines_in_the_order_listed(category):
    assert crisis_line_ids(category) == tuple(LISTED["categories"][category]["services"])


@pytest.mark.parametrize("category", ["", "unheard_of"])
def test_an_unknown_kind_gets_the_suicide_lines(category):
    assert crisis_line_ids(category) == crisis_line_ids(FALLBACK_CATEGORY) != crisis_line_ids()


def test_the_lines_are_directory_services_in_order(seeded_url):
    with session_scope(seeded_url) as session:
        for category in (None, *CATEGORIES):
            views = crisis_lines(session, category)
            assert [v.id for v in views] == list(crisis_line_ids(category)), category
            assert all(v.phones for v in views), category


def test_the_crisis_action_lists_the_lines_for_the_kind(seeded_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    tracker = Tracker(
        "crisis", {}, {"intent": {"name": "crisis_violence"}}, [], False, None, {}, "action_listen"
    )
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionCrisisResponse().run(dispatcher, tracker, {}))
    with session_scope(seeded_url) as session:
        expected = "\n".join(present.contact_answer(v) for v in crisis_lines(session, "violence"))
    assert dispatcher.messages[0]["response"] == "utter_crisis_lines"
    assert dispatcher.messages[0]["lines"] == expected
