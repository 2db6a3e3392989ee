"""Forgetting: "delete my data" in chat, and the retention job.

Conversations live in Rasa's SQL tracker store (table ``events``). When the
person asks to be forgotten, ``action_forget_me`` scrubs their handoff
requests, and :class:`ForgetfulSQLTrackerStore` then deletes the whole
conversation instead of saving it. :func:`delete_old_conversations` and
:func:`delete_old_sms_receipts` are the retention job's parts for
conversations and SMS message ids (``python -m bot retention``).

The Rasa server and the CLI import this module, never the action server: it
loads Rasa's tracker store.
"""

from __future__ import annotations

import json
import logging
import os
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa
import yaml
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import Session

from bot.channels.models import SmsInbound
from bot.config import ROOT
from bot.db import sqlite_pragmas
from bot.rasa_speedups import forget_states

log = logging.getLogger(__name__)
# The name of actions.privacy.ActionForgetMe, which the action server runs without
# importing this module, and the replies it answers with once it has deleted (or queued
# the deletion of) the handoff details; tests/test_privacy.py keeps them the same.
FORGET_ACTION = "action_forget_me"
FORGET_REPLIES = ("utter_forgotten", "utter_forget_queued")
ENDPOINTS = ROOT / "endpoints.yml"


def asked_to_forget(tracker: DialogueStateTracker) -> bool:
    """Whether the forget action ran in the latest turn and answered.

    Rasa logs the action even when the action server failed; without its answer
    nothing was deleted in the handoff tables, so the conversation is kept too
    (all or nothing) and the person can ask again.
    """
    answered = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered) and event.metadata.get("utter_action") in FORGET_REPLIES:
            answered = True
        if isinstance(event, ActionExecuted) and event.action_name == FORGET_ACTION:
            return answered
    return False


# How many conversations' trackers the Rasa server keeps between turns, the least
# recently used dropped first; ``cache_size`` in the tracker store's endpoint settings
# (0 turns keeping off). Each cost under 70 KB of the server's memory in the benchmark's
# conversations (about 50 events), so at most about 70 MB.
DEFAULT_CACHE_SIZE = 1000


class Stored(NamedTuple):
    """What the database holds of one conversation: how many events, the latest's id."""

    count: int
    last_id: int | None


@dataclass
class Kept:
    """A tracker whose first ``events`` events are those the database holds as ``stored``."""

    tracker: DialogueStateTracker
    events: int
    stored: Stored


class TrackerCache:
    """Trackers between turns: kept (saved, ready to lend) or lent (with one caller until
    it saves them), each at most ``size``, the least recently used dropped first."""

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError("the tracker cache size must be 0 (off) or more")
        self.size = size
        self._kept: OrderedDict[str, Kept] = OrderedDict()
        self._lent: OrderedDict[str, Kept] = OrderedDict()

    def _put(self, entries: OrderedDict[str, Kept], sender_id: str, kept: Kept) -> None:
        entries[sender_id] = kept
        entries.move_to_end(sender_id)
        while len(entries) > self.size:
            entries.popitem(last=False)

    def lend(self, sender_id: str) -> Kept | None:
        """The kept tracker of ``sender_id``, no longer kept (to be checked, then lent)."""
        return self._kept.pop(sender_id, None)

    def lent(self, sender_id: str, kept: Kept) -> None:
        self._put(self._lent, sender_id, kept)

    def take_back(self, sender_id: str, tracker: DialogueStateTracker) -> Kept | None:
        """What was known when ``tracker`` was lent, if it is the one lent for ``sender_id``."""
        lent = self._lent.pop(sender_id, None)
        self._kept.pop(sender_id, None)
        return lent if lent is not None and lent.tracker is tracker else None

    def keep(self, sender_id: str, kept: Kept) -> None:
        self._put(self._kept, sender_id, kept)

    def clear(self) -> None:
        self._kept.clear()
        self._lent.clear()


def _as_read(events: list[Event]) -> bool:
    """Whether reading these events back gives all of them: Rasa reads a conversation from
    its latest ``SessionStarted`` on, by timestamp, so not the events of a session's first
    turn that came before it (the initial ``action_listen``)."""
    starts = [event.timestamp for event in events if isinstance(event, SessionStarted)]
    if not starts:
        return True
    start = max(starts)
    return all(event.timestamp >= start for event in events)


def _tracker_pragmas(dbapi_connection: Any, record: Any) -> None:
    """``bot.db``'s pragmas for the same file (write-ahead log: readers never wait for a
    writer), and ``synchronous=NORMAL``: a commit no longer waits for the disk; a crash of
    the process loses nothing, a power cut at most the last turns."""
    sqlite_pragmas(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# The columns of an ``events`` row ``ForgetfulSQLTrackerStore._row`` writes, in its order
# (``id`` is the database's): the insert names them from here.
ROW = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")


class ForgetfulSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, cheaper per turn; a conversation that asked to be forgotten
    is deleted, not saved.

    Rasa's store rebuilds the tracker on every message (reads the session's events through
    the ORM, parses their JSON, replays them) and on every save counts the stored events
    and adds the new ones one ORM object at a time: a third of the Rasa server's time under
    load (bench/results/profile-before-h1.md). This store keeps the trackers it saved
    (:class:`TrackerCache`) and writes only a turn's new events, in one insert.

    A kept tracker is handed out only while the database still holds exactly what it saved:
    the conversation's event count and latest event id are checked first (one indexed
    query), so another replica's turn (the PostgreSQL profile), a deletion by the retention
    job or a restart all lead back to reading the database. It is handed to one caller at
    a time and kept again only once saved, so a turn that failed half-way is never served.
    """

    def __init__(self, *args: Any, cache_size: int = DEFAULT_CACHE_SIZE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cache = TrackerCache(int(cache_size))
        # Every statement a turn runs is built once: SQLAlchemy works out a statement's
        # cache key each time a new one is run (for the nested session query, 4-8% of
        # the Rasa server's time under load, bench/results/profile-s9-start.md), and
        # only once for the same one. _stored's query, asked twice a turn, and the
        # insert of a turn's events are text.
        quote = self.engine.dialect.identifier_preparer.quote
        self._session_rows = self._session_query()
        self._session_count = sa.select(sa.func.count()).select_from(self._session_rows.subquery())
        self._stored_query = sa.text(
            f"SELECT count(id), max(id) FROM {quote(self.table.name)} WHERE sender_id = :sender_id"
        )
        self._insert = sa.text(
            f"INSERT INTO {quote(self.table.name)} ({', '.join(map(quote, ROW))}) "
            f"VALUES ({', '.join(f':{column}' for column in ROW)})"
        )
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _tracker_pragmas)
            self.engine.dispose()  # the connection that created the table lacks them

    @property
    def table(self) -> sa.Table:
        return self.SQLEvent.__table__

    def _stored(self, conn: sa.engine.Connection, sender_id: str) -> Stored:
        """How many events the database holds for ``sender_id``, and the latest one's id."""
        count, last = conn.execute(self._stored_query, {"sender_id": sender_id}).one()
        return Stored(count, last)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        kept = self.cache.lend(sender_id)
        with self.engine.connect() as conn:
            stored = self._stored(conn, sender_id)
            # Every change to a tracker is an event: one with more events than it was
            # kept with was changed since (by a turn that failed before its save).
            if (
                kept is not None
                and kept.stored == stored
                and len(kept.tracker.events) == kept.events
            ):
                self.cache.lent(sender_id, kept)
                return kept.tracker
            if not self.domain or not stored.count:
                return None
            rows = conn.execute(self._session_rows, {"sender_id": sender_id}).scalars().all()
        tracker = DialogueStateTracker.from_dict(
            sender_id, [json.loads(data) for data in rows], self.domain.slots
        )
        self.cache.lent(sender_id, Kept(tracker, len(tracker.events), stored))
        return tracker

    def _session_query(self) -> sa.sql.Select:
        """The events of the latest session of the conversation bound as ``sender_id``, as
        Rasa's ``_event_query`` selects them."""
        t = self.table
        sender_id = sa.bindparam("sender_id")
        session_start = (
            sa.select(sa.func.max(t.c.timestamp))
            .where(t.c.sender_id == sender_id, t.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        return (
            sa.select(t.c.data)
            .where(
                t.c.sender_id == sender_id,
                sa.or_(t.c.timestamp >= session_start, session_start.is_(None)),
            )
            .order_by(t.c.id)
        )

    async def save(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        lent = self.cache.take_back(sender_id, tracker)
        if asked_to_forget(tracker):
            with self.engine.begin() as conn:
                conn.execute(sa.delete(self.table).where(self.table.c.sender_id == sender_id))
            forget_states(sender_id)
            log.info("a conversation was deleted at the person's request")
            return
        await self.stream_events(tracker)
        events = list(tracker.events)
        with self.engine.begin() as conn:
            if lent is not None:
                before, saved = lent.stored, lent.events
            else:  # as Rasa does: the events past those of the session already stored
                before = self._stored(conn, sender_id)
                saved = (
                    before.count
                    and conn.execute(self._session_count, {"sender_id": sender_id}).scalar_one()
                )
            new = events[saved:]
            if new:
                conn.execute(self._insert, [self._row(sender_id, e) for e in new])
            after = self._stored(conn, sender_id)
        # Kept only if the database now holds what this tracker holds and a read would
        # rebuild it as it is: nobody else wrote meanwhile, and no event predates the
        # session's start (Rasa reads a conversation from its latest session start).
        if (
            (lent is not None or before.count == 0)
            and after.count == before.count + len(new)
            and _as_read(events)
        ):
            self.cache.keep(sender_id, Kept(tracker, len(events), after))

    @staticmethod
    def _row(sender_id: str, event: Event) -> dict[str, Any]:
        """An ``events`` row, as Rasa's ``SQLTrackerStore.save`` writes it."""
        data = event.as_dict()
        values = (
            sender_id,
            event.type_name,
            data.get("timestamp"),
            data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            data.get("name"),
            json.dumps(data),
        )
        return dict(zip(ROW, values, strict=True))

    @property
    def domain(self) -> Domain:
        return self._domain

    @domain.setter
    def domain(self, domain: Domain | None) -> None:
        """A new model's domain: trackers built with the old one's slots are dropped."""
        self._domain = domain or Domain.empty()
        if hasattr(self, "cache"):
            self.cache.clear()


def tracker_store_url(endpoints: Path = ENDPOINTS) -> str:
    """The tracker store's database URL: ``TRACKER_DATABASE_URL``, else ``endpoints.yml``
    (relative SQLite paths from the repo)."""
    if os.environ.get("TRACKER_DATABASE_URL"):
        return os.environ["TRACKER_DATABASE_URL"]
    config = yaml.safe_load(endpoints.read_text(encoding="utf-8"))["tracker_store"]
    dialect = config.get("dialect", "sqlite")
    if dialect == "sqlite":
        path = Path(config.get("db", "rasa.db"))
        return f"sqlite:///{path if path.is_absolute() else ROOT / path}"
    return str(
        sa.engine.URL.create(
            dialect,
            username=config.get("username"),
            password=config.get("password"),
            host=config.get("url"),
            port=config.get("port"),
            database=config.get("db"),
        )
    )


def delete_old_conversations(url: str, now: datetime, days: int) -> int:
    """Deletes every conversation whose last event is older than ``days``; returns how many."""
    if days < 1:
        raise ValueError("days must be at least 1")
    cutoff = (now - timedelta(days=days)).timestamp()
    sqlite_file = sa.engine.make_url(url).database if url.startswith("sqlite") else None
    if sqlite_file and not Path(sqlite_file).exists():
        return 0  # no conversation was ever stored
    engine = sa.create_engine(url, future=True)
    try:
        if not sa.inspect(engine).has_table("events"):
            return 0
        events = sa.table("events", sa.column("sender_id"), sa.column("timestamp"))
        stale = (
            sa.select(events.c.sender_id)
            .group_by(events.c.sender_id)
            .having(sa.func.max(events.c.timestamp) < cutoff)
        )
        with engine.begin() as conn:
            senders = [row[0] for row in conn.execute(stale)]
            for start in range(0, len(senders), 500):
                batch = senders[start : start + 500]
                conn.execute(sa.delete(events).where(events.c.sender_id.in_(batch)))
        return len(senders)
    finally:
        engine.dispose()


def delete_old_sms_receipts(session: Session, now: datetime, days: int) -> int:
    """Forgets the gateway message ids older than ``days`` (kept only to drop retries)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    result = session.execute(
        sa.delete(SmsInbound).where(SmsInbound.received_at < now - timedelta(days=days))
    )
    return result.rowcount or 0
