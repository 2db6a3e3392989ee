"""Submitting a request: validation, normalisation, routing, idempotency."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.handoff import HandoffError, service
from bot.handoff.models import HandoffEvent, HandoffRequest
from bot.handoff.service import HandoffDraft, submit
from tests.handoff.conftest import DRAFT, NOW, snapshot


def test_a_request_is_stored_routed_and_logged_as_created(url, caplog):
    caplog.set_level(logging.DEBUG, logger="bot.handoff")
    with session_scope(url) as session:
        request_id = submit(session, DRAFT, "conv-1:1700000000.0", NOW).id
    with session_scope(url) as session:
        request = session.get(HandoffRequest, request_id)
        assert request.team_id == "grey-navigators"
        assert request.status == "new" and request.claimed_by is None
        assert request.contact_detail == "+64211234567"  # E.164
        assert request.consent_at == NOW and request.created_at == NOW
        assert request.consent_at.tzinfo is not None  # aware, UTC, on SQLite too
        assert (request.preferred_name, request.good_time) == ("Aroha", "after 3pm")
        (event,) = session.execute(select(HandoffEvent)).scalars().all()
        assert (event.kind, event.actor, event.request_id) == ("created", "bot", request_id)
        assert event.data == {
            "team_id": "grey-navigators",
            "channel": "rest",
            "contact_method": "text",
            "urgent": False,
        }
    for secret in ("Aroha", "4567", "after 3pm", "Partner"):
        assert secret not in caplog.text
    assert request_id in caplog.text


def test_same_idempotency_key_returns_the_stored_request_unchanged(url):
    with session_scope(url) as session:
        first = submit(session, DRAFT, "key-1", NOW)
    before = snapshot(url)
    with session_scope(url) as session:
        again = submit(session, replace(DRAFT, preferred_name="Someone else"), "key-1", NOW)
        assert again.id == first.id and again.preferred_name == "Aroha"
    assert snapshot(url) == before
    assert len(before[0]) == 1 and len(before[1]) == 1


def test_a_racing_duplicate_is_caught_by_the_unique_key(url, monkeypatch):
    """Two submissions that both looked before either stored: the second returns the first."""
    with session_scope(url) as session:
        first_id = submit(session, DRAFT, "key-1", NOW).id
    real = service._by_key
    calls = []

    def missed_once(session, key):
        calls.append(key)
        return None if len(calls) == 1 else real(session, key)

    monkeypatch.setattr(service, "_by_key", missed_once)
    with session_scope(url) as session:
        assert submit(session, DRAFT, "key-1", NOW).id == first_id
    assert len(calls) == 2
    requests, events = snapshot(url)
    assert len(requests) == 1 and len(events) == 1


def test_chat_keeps_no_contact_detail_and_email_is_kept_as_typed(url):
    with session_scope(url) as session:
        chat = submit(session, replace(DRAFT, contact_method="chat"), "a", NOW)
        email = submit(
            session,
            replace(DRAFT, contact_method="email", contact_detail=" aroha@example.org "),
            "b",
            NOW,
        )
        call = submit(
            session,
            replace(DRAFT, contact_method="call", contact_detail="(03) 768 1234"),
            "c",
            NOW,
        )
        assert chat.contact_detail is None
        assert email.contact_detail == "aroha@example.org"
        assert call.contact_detail == "+6437681234"


def test_optional_fields_may_be_left_out(url):
    minimal = HandoffDraft(
        conversation_id="c", channel="socketio", contact_method="chat", consent=True
    )
    with session_scope(url) as session:
        request = submit(session, minimal, "k", NOW)
        assert request.team_id == "national-navigators"
        assert request.need_summary is None and request.preferred_name is None


def test_urgent_is_recorded(url):
    with session_scope(url) as session:
        assert submit(session, replace(DRAFT, urgent=True), "k", NOW).urgent is True


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"consent": False}, "consent"),
        ({"consent": "yes"}, "consent"),
        ({"contact_method": "pigeon"}, "contact method"),
        ({"contact_method": ["text"]}, "contact method"),
        ({"contact_method": "call", "contact_detail": None}, "phone number"),
        ({"contact_method": "call", "contact_detail": "123"}, "phone number"),
        ({"contact_method": "call", "contact_detail": "111"}, "phone number"),
        ({"contact_method": "text", "contact_detail": "03 768 1234"}, "mobile"),
        ({"contact_method": "text", "contact_detail": "+44 20 7946 0000"}, "phone number"),
        ({"contact_method": "email", "contact_detail": "not an email"}, "email"),
        ({"contact_method": "email", "contact_detail": ""}, "email"),
        ({"need": "fishing"}, "unknown need"),
        ({"need": ["drugs_alcohol"]}, "need must be text"),
        ({"place_key": "atlantis"}, "unknown place"),
        ({"audience": "aliens"}, "unknown audience"),
        ({"preferred_name": "x" * 65}, "too long"),
        ({"preferred_name": "Aroha\x00"}, "not allowed"),
        ({"preferred_name": "Aroha\nDROP TABLE"}, "not allowed"),
        ({"preferred_name": "\ud800"}, "not valid text"),
        ({"good_time": "x" * 101}, "too long"),
        ({"need_summary": "x" * 1001}, "too long"),
        ({"need_summary": b"bytes"}, "must be text"),
        ({"conversation_id": ""}, "conversation id is required"),
        ({"conversation_id": "x" * 256}, "too long"),
        ({"channel": "REST'; --"}, "unknown channel"),
        ({"urgent": "yes"}, "urgent"),
    ],
)
def test_invalid_drafts_are_refused_and_change_nothing(url, changes, message):
    with session_scope(url) as session:
        submit(session, DRAFT, "existing", NOW)
    before = snapshot(url)
    with session_scope(url) as session, pytest.raises(HandoffError, match=message):
        submit(session, replace(DRAFT, **changes), "new-key", NOW)
    assert snapshot(url) == before


@pytest.mark.parametrize(
    "call",
    [
        lambda s: submit(s, DRAFT, "", NOW),
        lambda s: submit(s, DRAFT, "k" * 256, NOW),
        lambda s: submit(s, DRAFT, None, NOW),
        lambda s: submit(s, {"conversation_id": "c"}, "k", NOW),
        lambda s: submit(s, DRAFT, "k", datetime(2026, 12, 1, 11, 0)),  # naive
    ],
)
def test_bad_key_draft_type_or_clock_is_refused(url, call):
    with session_scope(url) as session, pytest.raises(HandoffError):
        call(session)
    assert snapshot(url) == ([], [])


def test_injection_strings_are_stored_as_plain_text(url):
    nasty = "Robert'); DROP TABLE handoff_request;--"
    with session_scope(url) as session:
        request = submit(session, replace(DRAFT, preferred_name=nasty[:64]), "k", NOW)
    with session_scope(url) as session:
        assert session.get(HandoffRequest, request.id).preferred_name == nasty[:64]
        assert json.loads(session.execute(select(HandoffEvent.detail)).scalar_one())
