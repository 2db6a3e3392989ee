"""Writing demand records: what was asked for, where, and how local the answer was.

A search that answers (``actions/search.py``) records one row per conversation,
need and ISO week. Counting once without an id that could lead back to the
person works with a keyed hash: ``tally = HMAC(week key, conversation id, need,
week)``. The week's key is random, kept in ``insight_week_key`` so every action
server replica uses the same one, and deleted once the following week is over
(a handoff in the week after a search still finds the search's row); the rows'
``tally`` values are cleared at the same moment. From then on nothing, not even
the tracker with its conversation id, links a row to a conversation.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import yaml
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from bot import clock
from bot.config import DATA_DIR, NZ
from bot.db import run_db
from bot.directory import query
from bot.directory.places import NATIONAL, gazetteer
from bot.insights.models import DemandRecord, WeekKey
from bot.reo.glossary import default_glossary

log = logging.getLogger(__name__)

AREAS_FILE = DATA_DIR / "insights" / "areas.yml"
# Glossary words that show a person writing in te reo; names of organisations,
# iwi and places are said in English too.
REO_KINDS = ("person", "wellbeing", "concept", "everyday", "greeting", "response", "question")
# How long a week's key lives after the week: the following week, for handoffs.
KEY_WEEKS = 2
OUTCOME_OF_REACH = {
    query.LOCAL: "local",
    query.REGIONAL: "regional",
    query.NATIONAL_ONLY: "national",
    None: "no_place",
}


class TrackerLike(Protocol):
    sender_id: str
    events: list[dict[str, Any]]

    def get_latest_input_channel(self) -> str | None: ...

    def get_slot(self, key: str) -> Any: ...


@dataclass(frozen=True)
class AreaRules:
    """Which towns are named on their own (data/insights/areas.yml)."""

    town_minimum_population: int
    town_populations: dict[str, int]
    smallest_shown_count: int


@lru_cache(maxsize=4)
def area_rules(path: Path = AREAS_FILE) -> AreaRules:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    populations = raw.get("town_populations") or {}
    unknown = sorted(set(populations) - set(gazetteer().places))
    if unknown:
        raise ValueError(f"{path}: town_populations names unknown places: {', '.join(unknown)}")
    return AreaRules(
        int(raw["town_minimum_population"]),
        {key: int(value) for key, value in populations.items()},
        int(raw["smallest_shown_count"]),
    )


def week_of(at: datetime) -> date:
    """The Monday of ``at``'s ISO week, in New Zealand."""
    day = at.astimezone(NZ).date()
    return day - timedelta(days=day.weekday())


def area_of(place_key: str | None, rules: AreaRules | None = None) -> str | None:
    """The place a record names: a town only when it is large enough, else its district.

    A district or region asked is kept; a place outside a district (a region
    elsewhere) is recorded as that region; None when no place was given.
    """
    rules = rules or area_rules()
    places = gazetteer()
    place = places.get(place_key)
    if place is None or place.key == NATIONAL:
        return None
    if place.kind != "town":
        return place.key
    if rules.town_populations.get(place.key, 0) >= rules.town_minimum_population:
        return place.key
    district = next(
        (k for k in places.lineage(place.key) if places.places[k].kind == "district"), None
    )
    return district or places.region_of(place.key)


def used_reo(texts: Iterable[str | None]) -> bool:
    """Whether any of the person's messages has a te reo word (see ``REO_KINDS``)."""
    glossary = default_glossary()
    return any(glossary.terms_in(text, REO_KINDS) for text in texts if text)


def outcome_of(result: query.SearchResult) -> str:
    if not result.services or result.fallback:
        return "nothing"
    return OUTCOME_OF_REACH[result.reach]


def _week_key(session: Session, week: date) -> bytes:
    """The week's key, made on first use (once by every replica: the primary key decides)."""
    key = session.get(WeekKey, week)
    if key is None:
        _forget_old_keys(session, week)
        try:
            with session.begin_nested():
                key = WeekKey(week=week, key=secrets.token_hex(32))
                session.add(key)
        except IntegrityError:
            key = session.get(WeekKey, week, populate_existing=True)
    return bytes.fromhex(key.key)


def expire_keys(session: Session, now: datetime) -> None:
    """The retention job's part: week keys past their time go even when nobody searched."""
    _forget_old_keys(session, week_of(now))


def _forget_old_keys(session: Session, week: date) -> None:
    """Deletes keys older than ``KEY_WEEKS`` and clears the hashes they made."""
    oldest = week - timedelta(weeks=KEY_WEEKS - 1)
    session.execute(delete(WeekKey).where(WeekKey.week < oldest))
    session.execute(
        update(DemandRecord)
        .where(DemandRecord.week < oldest, DemandRecord.tally.is_not(None))
        .values(tally=None)
    )


def _tally(key: bytes, conversation_id: str, need: str | None, week: date) -> str:
    message = json.dumps([conversation_id, need or "", week.isoformat()]).encode()  # unambiguous
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def record_search(
    session: Session,
    tracker: TrackerLike,
    asked: query.ServiceQuery,
    result: query.SearchResult,
    now: datetime | None = None,
) -> None:
    """Counts the search once for the conversation, need and week.

    A later search in the same week updates the row: the place and outcome of
    the latest search with a place, te reo if ever used.
    """
    now = now or clock.now()
    week = week_of(now)
    tally = _tally(_week_key(session, week), tracker.sender_id, asked.need, week)
    reo = used_reo(e.get("text") for e in tracker.events if e.get("event") == "user")
    facts = {
        "area": area_of(asked.place),
        "audience": asked.audience,
        "outcome": outcome_of(result),
    }
    row = session.scalars(select(DemandRecord).where(DemandRecord.tally == tally)).first()
    if row is None:
        channel = tracker.get_latest_input_channel() or "unknown"
        session.add(
            DemandRecord(week=week, need=asked.need, channel=channel, reo=reo, tally=tally, **facts)
        )
        return
    row.reo = row.reo or reo
    if facts["area"] is not None or row.area is None:
        row.area, row.audience, row.outcome = facts["area"], facts["audience"], facts["outcome"]


async def note_search(
    tracker: TrackerLike, asked: query.ServiceQuery, result: query.SearchResult
) -> None:
    """``record_search`` off the event loop; a database error is logged, never shown:
    the person's answer does not wait on the figures."""
    try:
        await run_db(record_search, tracker, asked, result)
    except SQLAlchemyError as exc:
        # Not log.exception: the error text can hold the statement's parameters.
        log.error("demand record not written (%s)", type(exc).__name__)


async def note_handoff_asked(tracker: TrackerLike) -> None:
    """The handoff form has ended: the person asked for a navigator, and consented or
    not. Like ``note_search``, a database error is logged and never shown."""
    steps = {"handoff_asked": True}
    if tracker.get_slot("handoff_consent") is True:
        steps["handoff_consented"] = True
    need = tracker.get_slot("need")
    try:
        await run_db(record_handoff, tracker.sender_id, need, None, **steps)
    except SQLAlchemyError as exc:
        log.error("handoff steps not marked (%s)", type(exc).__name__)


def record_handoff(
    session: Session,
    conversation_id: str,
    need: str | None,
    now: datetime | None = None,
    **steps: bool,
) -> bool:
    """Marks the conversation's record for the need (this week's, else last week's)
    with the handoff steps reached (``handoff``: a request was sent, by default;
    ``handoff_asked``, ``handoff_consented``); False when no search was recorded.

    It runs in the caller's transaction, inside a savepoint: a failure here is
    logged and never loses a handoff request.
    """
    steps = steps or {"handoff": True}
    week = week_of(now or clock.now())
    try:
        with session.begin_nested():
            for when in (week, week - timedelta(weeks=1)):
                key = session.get(WeekKey, when)
                if key is None:
                    continue
                tally = _tally(bytes.fromhex(key.key), conversation_id, need, when)
                marked = session.execute(
                    update(DemandRecord).where(DemandRecord.tally == tally).values(**steps)
                )
                if marked.rowcount:
                    return True
    except SQLAlchemyError as exc:
        log.error("handoff not marked on its demand record (%s)", type(exc).__name__)
    return False
