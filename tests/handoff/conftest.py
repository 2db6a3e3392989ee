"""Handoff fixtures: the real directory seed and teams.yml on SQLite and PostgreSQL, navigators.

Times are fixed: ``NOW`` is Tuesday 1 December 2026, 11am in New Zealand
(NZDT, UTC+13), when every sample team is staffed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Tracker
from sqlalchemy import select

from bot.db import session_scope
from bot.directory import seed
from bot.handoff import accounts
from bot.handoff.models import HandoffEvent, HandoffRequest, Navigator
from bot.handoff.routing import load_teams
from bot.handoff.service import HandoffDraft, claim, close, mark_in_contact, submit
from tests.conftest import copied

NZ_TZ = ZoneInfo("Pacific/Auckland")
NOW = datetime(2026, 11, 30, 22, 0, tzinfo=timezone.utc)
PASSWORD = "correct horse battery staple"
# Which sample team each test navigator belongs to. The three local teams share a
# sample organisation; the regional team has another.
NAVIGATORS = {
    "grey": "grey-navigators",
    "grey2": "grey-navigators",
    "buller": "buller-navigators",
    "coast": "west-coast-navigators",
}
DRAFT = HandoffDraft(
    conversation_id="conv-1",
    channel="rest",
    contact_method="text",
    consent=True,
    need="drugs_alcohol",
    need_summary="Partner using P again; wants to talk to someone local.",
    place_key="greymouth",
    audience="whanau",
    preferred_name="Aroha",
    contact_detail="021 123 4567",
    good_time="after 3pm",
)


def load_directory_and_teams(url: str) -> None:
    """What ``python -m bot directory load`` loads: the seed and the sample teams."""
    with session_scope(url) as session:
        seed.load(session)
        load_teams(session)


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The directory seed and the sample teams, on each backend."""
    yield from copied(request, "handoff", load_directory_and_teams)


@pytest.fixture
def navs(url: str) -> dict[str, str]:
    """Navigator ids by name (see NAVIGATORS)."""
    ids = {}
    with session_scope(url) as session:
        for name, team in NAVIGATORS.items():
            navigator = accounts.create_navigator(
                session, f"{name}@example.org", name.title(), team, PASSWORD
            )
            ids[name] = navigator.id
    return ids


def nav(session, navs: dict[str, str], name: str) -> Navigator:
    return session.get(Navigator, navs[name])


def make_request(
    url: str,
    navs: dict[str, str],
    status: str = "new",
    holder: str = "grey",
    key: str = "k1",
    **changes: Any,
) -> str:
    """A request (Greymouth, meth: the Grey team) brought to ``status`` by ``holder``."""
    with session_scope(url) as session:
        request_id = submit(session, replace(DRAFT, **changes), key, NOW).id
    steps: dict[str, list[Callable]] = {
        "new": [],
        "claimed": [claim],
        "in_contact": [claim, mark_in_contact],
        "closed": [lambda s, n, r, now: close(s, n, r, "duplicate", now=now)],
    }
    with session_scope(url) as session:
        for step in steps[status]:
            step(session, nav(session, navs, holder), request_id, now=NOW)
    return request_id


def snapshot(url: str) -> tuple[list[tuple], list[tuple]]:
    """Every handoff request and event, to check that a refused call changed nothing."""
    with session_scope(url) as session:
        requests = [
            tuple(getattr(r, c.name) for c in HandoffRequest.__table__.columns)
            for r in session.execute(select(HandoffRequest).order_by(HandoffRequest.id)).scalars()
        ]
        events = [
            (e.id, e.request_id, e.at, e.actor, e.kind, e.detail)
            for e in session.execute(select(HandoffEvent).order_by(HandoffEvent.id)).scalars()
        ]
    return requests, events


def confirmed_tracker(sender: str, **slots: Any) -> Tracker:
    """The action server's view of a conversation whose person has just confirmed a call
    request (Greymouth, meth), with ``slots`` besides."""
    slots = {
        "handoff_consent": True,
        "handoff_confirmed": True,
        "handoff_contact_method": "call",
        "handoff_contact_detail": "+64211234567",
        "need": "drugs_alcohol",
        "place": "greymouth",
        **slots,
    }
    events = [{"event": "user", "timestamp": 1764000000.0, "text": "yes"}]
    return Tracker(sender, slots, {"text": "yes"}, events, False, None, {}, "action_listen")
