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

import logging
import os
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
import yaml
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import Session

from bot.channels.models import SmsInbound
from bot.config import ROOT

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


class ForgetfulSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store; a conversation that asked to be forgotten is deleted, not saved."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        if not asked_to_forget(tracker):
            await super().save(tracker)
            return
        with self.session_scope() as session:
            session.query(self.SQLEvent).filter(
                self.SQLEvent.sender_id == tracker.sender_id
            ).delete(synchronize_session=False)
            session.commit()
        log.info("a conversation was deleted at the person's request")


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
