"""A search that answers writes its demand record; a failure to write it never stops the answer."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from actions.handoff import _submit
from actions.search import ActionSearchServices
from bot.db import session_scope
from bot.handoff.routing import load_teams
from bot.insights import demand
from bot.insights.models import DemandRecord
from tests.handoff.conftest import DRAFT


def _search(slots: dict[str, Any], text: str, channel: str) -> list[str | None]:
    user = {"event": "user", "text": text, "input_channel": channel, "parse_data": {}}
    tracker = Tracker("conv-7", slots, {}, [user], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionSearchServices().run(dispatcher, tracker, {}))
    return [m.get("response") for m in dispatcher.messages]


def test_a_search_writes_one_record(seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    slots = {"need": "housing", "place": "westport", "audience": "rangatahi"}
    assert "utter_services" in _search(slots, "kia ora, need a whare in westport", "socketio")
    assert "utter_services" in _search(slots, "more please", "socketio")
    with session_scope(seeded_url) as session:
        rows = session.scalars(select(DemandRecord)).all()
        facts = [(r.need, r.area, r.audience, r.channel, r.reo, r.demo) for r in rows]
    assert facts == [("housing", "buller", "rangatahi", "socketio", True, False)]


def test_a_record_that_cannot_be_written_is_logged_and_the_answer_still_comes(
    seeded_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("DATABASE_URL", seeded_url)

    def broken(*_args: Any) -> None:
        raise OperationalError("INSERT", {"text": "secret"}, Exception("disk full"))

    monkeypatch.setattr(demand, "record_search", broken)
    with caplog.at_level(logging.ERROR, logger=demand.__name__):
        assert "utter_services" in _search(
            {"need": "money_food", "place": "hokitika"}, "kai", "rest"
        )
    assert "demand record not written (OperationalError)" in caplog.text
    assert "secret" not in caplog.text


@pytest.fixture
def searched_twice(seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The directory, in which conv-7 has searched for housing, then for a lawyer."""
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    _search({"need": "housing", "place": "westport"}, "need a house", "rest")
    _search({"need": "legal", "place": "westport"}, "and a lawyer", "rest")
    return seeded_url


def test_a_handoff_request_after_the_search_marks_its_record(
    searched_twice: str,
) -> None:
    draft = replace(DRAFT, conversation_id="conv-7", need="housing", place_key="westport")
    with session_scope(searched_twice) as session:
        load_teams(session)
        _submit(session, draft, "conv-7:1")
    with session_scope(searched_twice) as session:
        rows = session.execute(select(DemandRecord.need, DemandRecord.handoff)).all()
    assert sorted(rows) == [("housing", True), ("legal", False)]


class _Ended:
    """The tracker as the handoff form ends: who, the need, whether they consented."""

    def __init__(self, sender_id: str, slots: dict[str, Any]) -> None:
        self.sender_id, self.slots, self.events = sender_id, slots, []

    def get_slot(self, key: str) -> Any:
        return self.slots.get(key)

    def get_latest_input_channel(self) -> str:
        return "rest"


def test_the_end_of_the_handoff_form_marks_asked_and_consent(
    searched_twice: str,
) -> None:
    consent = {"need": "housing", "handoff_consent": True}
    asyncio.run(demand.note_handoff_asked(_Ended("conv-7", consent)))
    asyncio.run(demand.note_handoff_asked(_Ended("conv-7", {"need": "legal"})))
    with session_scope(searched_twice) as session:
        columns = (DemandRecord.need, DemandRecord.handoff_asked, DemandRecord.handoff_consented)
        rows = session.execute(select(*columns)).all()
    assert sorted(rows) == [("housing", True, True), ("legal", True, False)]
