"""'Forget me' all or nothing: free text erased with the request's key, a live chat ended,
a database failure queued and retried, and the person told which of these happened."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.privacy import ActionForgetMe
from bot.db import session_scope
from bot.handoff import forgetting, outbox
from bot.handoff.models import HandoffEvent, HandoffRequest
from bot.handoff.service import (
    add_note,
    apply_retention,
    event_text,
    events,
    forget_conversation,
    get_request,
    record_message,
    start_live,
)
from tests.handoff.conftest import NOW, make_request, nav

NOTE = "Aroha's partner is using P again; she is scared of him"
MESSAGE = "Kia ora Aroha, are you safe to talk right now?"
UNREACHABLE = "sqlite:////nonexistent/directory/handoff.db"


def _with_free_text(url: str, navs: dict[str, str]) -> str:
    request_id = make_request(url, navs, "claimed", contact_method="chat", contact_detail=None)
    with session_scope(url) as session:
        grey = nav(session, navs, "grey")
        add_note(session, grey, request_id, NOTE, now=NOW)
        start_live(session, grey, request_id, now=NOW)
        record_message(session, grey, request_id, MESSAGE, now=NOW)
    return request_id


def _stored_details(url: str) -> str:
    with session_scope(url) as session:
        return " ".join(session.execute(select(HandoffEvent.detail)).scalars())


def test_notes_and_messages_are_readable_until_the_person_is_forgotten(url, navs):
    request_id = _with_free_text(url, navs)
    assert NOTE not in _stored_details(url) and MESSAGE not in _stored_details(url)
    with session_scope(url) as session:
        grey = nav(session, navs, "grey")
        request = get_request(session, grey, request_id)
        texts = [event_text(request, e) for e in events(session, grey, request_id)]
        assert [t for t in texts if t] == [NOTE, MESSAGE]
    with session_scope(url) as session:
        assert forget_conversation(session, "conv-1", NOW + timedelta(hours=1)) == 1
    with session_scope(url) as session:
        grey = nav(session, navs, "grey")
        request = get_request(session, grey, request_id)
        assert request.content_key is None
        history = events(session, grey, request_id)
        # Who did what and when stays; what was written can't be read by anyone.
        assert [e.kind for e in history] == [
            "created",
            "claimed",
            "note",
            "live_started",
            "message",
            "forgotten",
        ]
        assert [event_text(request, e) for e in history] == [None] * len(history)


def test_retention_erases_notes_too(url, navs):
    request_id = _with_free_text(url, navs)
    with session_scope(url) as session:
        assert apply_retention(session, NOW + timedelta(days=400), 365) == 1
    with session_scope(url) as session:
        request = session.get(HandoffRequest, request_id)
        history = events(session, nav(session, navs, "grey"), request_id)
        assert [event_text(request, e) for e in history] == [None] * len(history)


def test_forgetting_during_a_live_chat_ends_it_and_says_so(url, navs):
    request_id = _with_free_text(url, navs)
    with session_scope(url) as session:
        forget_conversation(session, "conv-1", NOW)
    with session_scope(url) as session:
        request = session.get(HandoffRequest, request_id)
        assert request.live_since is None and request.preferred_name is None
        last = events(session, nav(session, navs, "grey"), request_id)[-1]
        assert (last.kind, last.actor, last.data) == (
            "forgotten",
            "person",
            {"reason": "asked", "ended_live_chat": True},
        )


def test_a_forget_the_database_refuses_is_queued_then_carried_out(url, navs, tmp_path):
    request_id = make_request(url, navs, "new")
    queue = tmp_path / "forget"
    assert forgetting.forget("conv-1", NOW, UNREACHABLE, queue) is False
    assert len(forgetting.pending(queue)) == 1
    assert forgetting.retry(UNREACHABLE, queue) == 0  # still down: still queued
    assert len(forgetting.pending(queue)) == 1
    assert forgetting.retry(url, queue) == 1
    assert forgetting.pending(queue) == []
    with session_scope(url) as session:
        request = session.get(HandoffRequest, request_id)
        assert (request.preferred_name, request.contact_detail) == (None, None)
        assert request.forgotten_at is not None


def _forget_action(sender: str, **slots) -> tuple[list[str], list[dict]]:
    tracker = Tracker(sender, slots, {}, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionForgetMe().run(dispatcher, tracker, {}))
    return [m["response"] for m in dispatcher.messages], events


@pytest.fixture
def queue(tmp_path, monkeypatch):
    monkeypatch.setattr(forgetting, "FORGET_DIR", tmp_path / "forget")
    monkeypatch.setattr(outbox, "OUTBOX_DIR", tmp_path / "outbox")
    return tmp_path / "forget"


def test_the_person_is_told_when_the_handoff_details_are_only_queued(url, navs, queue, monkeypatch):
    make_request(url, navs, "new")
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    responses, _ = _forget_action("conv-1")
    assert responses == ["utter_forget_queued"]
    assert len(forgetting.pending(queue)) == 1
    monkeypatch.setenv("DATABASE_URL", url)
    responses, _ = _forget_action("conv-1", navigator_live=True)
    assert responses == ["utter_forgotten"]
    assert forgetting.pending(queue) == []


def test_delete_my_data_mid_chat_puts_the_bot_back(url, navs, queue, monkeypatch):
    _with_free_text(url, navs)
    monkeypatch.setenv("DATABASE_URL", url)
    responses, events = _forget_action("conv-1", navigator_live=True)
    assert responses == ["utter_forgotten"]
    assert {"event": "slot", "name": "navigator_live", "value": None} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in events
    ]
