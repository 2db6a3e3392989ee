"""Deleting contact details: on the person's request and by the retention job."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.handoff import HandoffError, InvalidTransition
from bot.handoff.models import HandoffEvent, HandoffRequest
from bot.handoff.service import (
    add_note,
    apply_retention,
    claim,
    close,
    forget_conversation,
    submit,
)
from tests.handoff.conftest import DRAFT, NOW, make_request, nav, snapshot

SCRUBBED = ("preferred_name", "contact_detail", "good_time", "need_summary")
KEPT = (
    "id",
    "conversation_id",
    "channel",
    "status",
    "outcome",
    "need",
    "place_key",
    "audience",
    "contact_method",
    "consent_at",
    "urgent",
    "team_id",
    "claimed_by",
    "created_at",
    "escalated_at",
)


def _rows(url: str) -> dict[str, HandoffRequest]:
    with session_scope(url) as session:
        return {r.id: r for r in session.execute(select(HandoffRequest)).scalars()}


def _events(url: str, request_id: str) -> list[tuple]:
    with session_scope(url) as session:
        return [
            (e.id, e.at, e.actor, e.kind, e.detail)
            for e in session.execute(
                select(HandoffEvent)
                .where(HandoffEvent.request_id == request_id)
                .order_by(HandoffEvent.id)
            ).scalars()
        ]


def _assert_forgotten(before: HandoffRequest, after: HandoffRequest, at) -> None:
    assert all(getattr(after, field) is None for field in SCRUBBED)
    assert all(getattr(after, field) == getattr(before, field) for field in KEPT)
    assert after.forgotten_at == at


def test_forget_conversation_scrubs_that_conversation_only(url, navs):
    first = make_request(url, navs, "claimed", key="a1", conversation_id="conv-A")
    second = make_request(url, navs, "new", key="a2", conversation_id="conv-A")
    other = make_request(url, navs, "new", key="b1", conversation_id="conv-B")
    with session_scope(url) as session:
        add_note(session, nav(session, navs, "grey"), first, "Left a message", now=NOW)
    before, events_before = _rows(url), {r: _events(url, r) for r in (first, second, other)}
    later = NOW + timedelta(hours=2)
    with session_scope(url) as session:
        assert forget_conversation(session, "conv-A", later) == 2
    after = _rows(url)
    for request_id in (first, second):
        _assert_forgotten(before[request_id], after[request_id], later)
        events = _events(url, request_id)
        assert events[:-1] == events_before[request_id]  # the history stays, unchanged
        assert events[-1][1:4] == (later, "person", "forgotten")
        assert "Aroha" not in events[-1][4] and "4567" not in events[-1][4]
    assert _events(url, other) == events_before[other]
    untouched = [c.name for c in HandoffRequest.__table__.columns]
    assert [getattr(after[other], c) for c in untouched] == [
        getattr(before[other], c) for c in untouched
    ]
    snap = snapshot(url)
    with session_scope(url) as session:
        assert forget_conversation(session, "conv-A", later) == 0  # already forgotten
        assert forget_conversation(session, "never-seen", later) == 0
    assert snapshot(url) == snap


def test_a_forgotten_request_can_be_closed_but_not_taken_up(url, navs):
    request_id = make_request(url, navs, "new", conversation_id="conv-A")
    with session_scope(url) as session:
        forget_conversation(session, "conv-A", NOW)
    with session_scope(url) as session:
        grey = nav(session, navs, "grey")
        with pytest.raises(InvalidTransition, match="deleted"):
            claim(session, grey, request_id, now=NOW)
        close(session, grey, request_id, "declined", now=NOW)


@pytest.mark.parametrize("bad", ["", None, "x" * 256, 42])
def test_forget_with_a_bad_conversation_id_is_refused(url, bad):
    with session_scope(url) as session, pytest.raises(HandoffError):
        forget_conversation(session, bad, NOW)


def test_retention_scrubs_old_requests_and_nothing_else(url, navs):
    days = 30
    old = NOW - timedelta(days=40)
    with session_scope(url) as session:
        grey = nav(session, navs, "grey")
        closed_long_ago = submit(session, DRAFT, "closed-long-ago", old).id
        close(session, grey, closed_long_ago, "connected", now=NOW - timedelta(days=35))
        closed_recently = submit(session, DRAFT, "closed-recently", old).id
        close(session, grey, closed_recently, "connected", now=NOW - timedelta(days=10))
        never_closed = submit(session, DRAFT, "never-closed", old).id
        claim(session, grey, never_closed, now=old)
        recent = submit(session, DRAFT, "recent", NOW - timedelta(days=5)).id
        already = submit(session, replace(DRAFT, conversation_id="gone"), "already", old).id
        forget_conversation(session, "gone", NOW - timedelta(days=39))
    before = _rows(url)
    events_before = {r: _events(url, r) for r in before}
    with session_scope(url) as session:
        assert apply_retention(session, NOW, days) == 2
    after = _rows(url)
    for request_id in (closed_long_ago, never_closed):
        _assert_forgotten(before[request_id], after[request_id], NOW)
        events = _events(url, request_id)
        assert events[:-1] == events_before[request_id]
        assert events[-1][2:] == ("system", "forgotten", '{"days": 30, "reason": "retention"}')
    columns = [c.name for c in HandoffRequest.__table__.columns]
    for request_id in (closed_recently, recent, already):
        assert [getattr(after[request_id], c) for c in columns] == [
            getattr(before[request_id], c) for c in columns
        ]
        assert _events(url, request_id) == events_before[request_id]
    snap = snapshot(url)
    with session_scope(url) as session:
        assert apply_retention(session, NOW, days) == 0  # safe to run again from cron
    assert snapshot(url) == snap


@pytest.mark.parametrize("days", [0, -1, 1.5, "30", True, None])
def test_retention_needs_a_whole_number_of_days(url, days):
    with session_scope(url) as session, pytest.raises(HandoffError):
        apply_retention(session, NOW, days)
