"""When nobody takes a request: escalation to the regional team, then the national default."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.handoff import HandoffError, NotFound
from bot.handoff.lifecycle import Escalated
from bot.handoff.models import HandoffEvent, HandoffRequest
from bot.handoff.service import escalate, get_request, submit
from tests.handoff.conftest import DRAFT, NOW, NZ_TZ, make_request, nav, snapshot


def _team(url: str, request_id: str) -> str:
    with session_scope(url) as session:
        return session.get(HandoffRequest, request_id).team_id


def _escalate(url: str, minutes_later: int) -> list[str]:
    """Escalates unclaimed requests only, ``minutes_later``; checks what ``notify`` was told."""
    told: list[Escalated] = []
    with session_scope(url) as session:
        now = NOW + timedelta(minutes=minutes_later)
        moved = escalate(session, now, told.append, 30, out_of_hours=False)
        assert [(t.request_id, t.reason) for t in told] == [(r.id, "unclaimed") for r in moved]
        return [r.id for r in moved]


def test_an_unclaimed_request_moves_up_one_level_each_wait(url, navs):
    request_id = make_request(url, navs, "new")
    claimed_id = make_request(url, navs, "claimed", key="claimed")
    assert _escalate(url, 29) == []
    assert _escalate(url, 30) == [request_id]  # the claimed request stays
    assert _team(url, request_id) == "west-coast-navigators"
    assert _escalate(url, 45) == []  # the wait restarts at the new team
    assert _escalate(url, 60) == [request_id]
    assert _team(url, request_id) == "national-navigators"
    before = snapshot(url)
    assert _escalate(url, 600) == []  # nowhere higher than national
    assert snapshot(url) == before
    assert _team(url, claimed_id) == "grey-navigators"
    with session_scope(url) as session:
        request = session.get(HandoffRequest, request_id)
        assert request.escalated_at == NOW + timedelta(minutes=60)
        escalations = (
            session.execute(
                select(HandoffEvent)
                .where(HandoffEvent.request_id == request_id, HandoffEvent.kind == "escalated")
                .order_by(HandoffEvent.id)
            )
            .scalars()
            .all()
        )
        assert [(e.actor, e.data) for e in escalations] == [
            (
                "system",
                {
                    "from_team": "grey-navigators",
                    "to_team": "west-coast-navigators",
                    "reason": "unclaimed",
                },
            ),
            (
                "system",
                {
                    "from_team": "west-coast-navigators",
                    "to_team": "national-navigators",
                    "reason": "unclaimed",
                },
            ),
        ]
        # The request now belongs to the national team's organisation.
        with pytest.raises(NotFound):
            get_request(session, nav(session, navs, "grey"), request_id)


def test_a_regional_request_goes_straight_to_national(url, navs):
    with session_scope(url) as session:
        request_id = submit(session, replace(DRAFT, need="housing"), "k", NOW).id
    assert _team(url, request_id) == "west-coast-navigators"
    assert _escalate(url, 30) == [request_id]
    assert _team(url, request_id) == "national-navigators"


@pytest.mark.parametrize("minutes", [0, -5, 1.5, "30", None])
def test_a_bad_wait_is_refused(url, minutes):
    with session_scope(url) as session, pytest.raises(HandoffError):
        escalate(session, NOW, print, minutes)


def test_naive_now_is_refused(url):
    with session_scope(url) as session, pytest.raises(HandoffError):
        escalate(session, datetime(2026, 12, 1, 11, 0), print, 30)


NEVER = 10**6  # minutes: nothing is overdue, so only the out-of-hours rule moves requests


def _closed_escalation(url: str, at: datetime) -> tuple[bool, str]:
    """Whether a request for the Grey team submitted at ``at`` moved, and where it is."""
    with session_scope(url) as session:
        request_id = submit(session, DRAFT, f"k{at.isoformat()}", at).id
        moved = [r.id for r in escalate(session, at, print, NEVER)]
        return request_id in moved, session.get(HandoffRequest, request_id).team_id


def test_out_of_hours_requests_go_to_the_nearest_team_that_is_staffed(url):
    # Sample hours: local Mon–Fri 8:30–5; regional Mon–Fri 8–8 and Sat 10–2; national 8am–midnight.
    tuesday = datetime(2026, 12, 1, 11, 0, tzinfo=NZ_TZ)
    assert _closed_escalation(url, tuesday) == (False, "grey-navigators")
    night = datetime(2026, 12, 5, 3, 0, tzinfo=NZ_TZ)  # nobody staffed: it waits locally
    assert _closed_escalation(url, night) == (False, "grey-navigators")
    saturday = datetime(2026, 12, 5, 11, 0, tzinfo=NZ_TZ)
    assert _closed_escalation(url, saturday) == (True, "west-coast-navigators")
    sunday = datetime(2026, 12, 6, 11, 0, tzinfo=NZ_TZ)
    assert _closed_escalation(url, sunday) == (True, "national-navigators")
    with session_scope(url) as session:
        teams = session.execute(select(HandoffRequest.team_id)).scalars().all()
    # The Tuesday and night requests, still waiting, moved with the weekend too.
    assert teams.count("grey-navigators") == 0
