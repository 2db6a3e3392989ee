"""bot.privacy.ForgetfulSQLTrackerStore keeps trackers between turns: what it hands out is
always what reading the database gives, it writes each event once, and it reads the
events again only when the database changed under it (another replica, the retention job)."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.privacy import (
    ForgetfulSQLTrackerStore,
    Kept,
    Stored,
    TrackerCache,
    delete_old_conversations,
)

DOMAIN = Domain.from_dict(
    {
        "intents": ["greet", "find_service"],
        "slots": {
            "place": {"type": "text", "mappings": [{"type": "from_entity", "entity": "place"}]}
        },
        "responses": {"utter_greet": [{"text": "Kia ora"}]},
    }
)


def make_store(path: Path, **kwargs: int) -> ForgetfulSQLTrackerStore:
    return ForgetfulSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(path), **kwargs)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "conversations.db"


async def turn(store: ForgetfulSQLTrackerStore, sender: str, text: str) -> DialogueStateTracker:
    """One turn as Rasa's processor takes it: read (or create), a session start on the first
    message, the message, a reply, save."""
    tracker = await store.get_or_create_tracker(sender)
    if not any(isinstance(event, SessionStarted) for event in tracker.events):
        tracker.update(ActionExecuted("action_session_start"))
        tracker.update(SessionStarted())
        tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered(text, {"name": "find_service", "confidence": 0.9}))
    tracker.update(SlotSet("place", text))
    tracker.update(ActionExecuted("utter_greet"))
    tracker.update(BotUttered("Kia ora", metadata={"utter_action": "utter_greet"}))
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    return tracker


async def as_read(db: Path, sender: str) -> dict:
    """The conversation as a store that has never seen it reads it from the database."""
    tracker = await make_store(db, cache_size=0).retrieve(sender)
    return tracker.current_state(EventVerbosity.ALL)


def statements(store: ForgetfulSQLTrackerStore) -> list[str]:
    seen: list[str] = []
    sa.event.listen(
        store.engine, "before_cursor_execute", lambda *args: seen.append(args[2].split()[0:4])
    )
    return seen


@pytest.mark.asyncio
async def test_every_turn_hands_out_what_the_database_holds(db: Path) -> None:
    store = make_store(db)
    for n in range(4):
        await turn(store, "aroha", f"message {n}")
        tracker = await store.retrieve("aroha")
        assert tracker.current_state(EventVerbosity.ALL) == await as_read(db, "aroha")
        await store.save(tracker)  # nothing new: nothing written
    with sqlite3.connect(db) as conn:
        (users,) = conn.execute("SELECT count(*) FROM events WHERE type_name='user'").fetchone()
        (all_events,) = conn.execute("SELECT count(*) FROM events").fetchone()
    assert users == 4
    assert all_events == len((await store.retrieve_full_tracker("aroha")).events)


@pytest.mark.asyncio
async def test_a_kept_tracker_is_not_read_again(db: Path) -> None:
    store = make_store(db)
    await turn(store, "aroha", "one")
    await turn(store, "aroha", "two")  # the first turn's start predates its session start
    seen = statements(store)
    kept = await turn(store, "aroha", "three")
    assert not any("data" in " ".join(words) for words in seen), seen
    assert (await store.retrieve("aroha")) is kept


@pytest.mark.asyncio
async def test_another_replica_s_turn_is_read(db: Path) -> None:
    ours, other = make_store(db), make_store(db)
    await turn(ours, "aroha", "one")
    await turn(ours, "aroha", "two")
    await turn(other, "aroha", "three")
    tracker = await ours.retrieve("aroha")
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)][-1] == "three"
    assert tracker.current_state(EventVerbosity.ALL) == await as_read(db, "aroha")


@pytest.mark.asyncio
async def test_a_turn_that_failed_before_its_save_is_not_served(db: Path) -> None:
    store = make_store(db)
    await turn(store, "aroha", "one")
    await turn(store, "aroha", "two")
    tracker = await store.retrieve("aroha")
    tracker.update(UserUttered("lost", {"name": "greet", "confidence": 1.0}))  # never saved
    again = await store.retrieve("aroha")
    assert "lost" not in [e.text for e in again.events if isinstance(e, UserUttered)]
    assert again.current_state(EventVerbosity.ALL) == await as_read(db, "aroha")


@pytest.mark.asyncio
async def test_a_created_tracker_changed_but_not_saved_is_not_served(db: Path) -> None:
    store = make_store(db)
    tracker = await store.get_or_create_tracker("aroha")  # saved with its first action_listen
    tracker.update(UserUttered("lost", {"name": "greet", "confidence": 1.0}))
    again = await store.retrieve("aroha")
    assert len(again.events) == 1


@pytest.mark.asyncio
async def test_a_deleted_conversation_is_gone(db: Path) -> None:
    store = make_store(db)
    await turn(store, "aroha", "one")
    await turn(store, "aroha", "two")
    later = datetime.fromtimestamp(time.time(), timezone.utc) + timedelta(days=400)
    assert delete_old_conversations(f"sqlite:///{db}", later, days=30) == 1
    assert await store.retrieve("aroha") is None


def test_the_sqlite_file_is_in_wal_mode_with_normal_sync(db: Path) -> None:
    store = make_store(db)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_the_cache_is_bounded_and_refuses_a_negative_size() -> None:
    cache = TrackerCache(2)
    trackers = {s: DialogueStateTracker(s, []) for s in "abc"}
    for sender, tracker in trackers.items():
        cache.keep(sender, Kept(tracker, 0, Stored(0, None)))
    assert cache.lend("a") is None and cache.lend("c") is not None
    with pytest.raises(ValueError):
        TrackerCache(-1)
