"""Forgetting a conversation on request, and the retention job, on Rasa's real SQL tracker store."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from actions.privacy import FORGET_QUEUED, FORGOTTEN, ActionForgetMe
from bot import rasa_speedups
from bot.config import ROOT
from bot.privacy import (
    FORGET_ACTION,
    FORGET_REPLIES,
    ForgetfulSQLTrackerStore,
    delete_old_conversations,
    tracker_store_url,
)
from tests.conftest import Templates

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(tmp_path):
    return ForgetfulSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "t.db"))


def conversation(sender: str, when: datetime, *extra) -> DialogueStateTracker:
    stamp = when.timestamp()
    return DialogueStateTracker.from_events(
        sender,
        [
            ActionExecuted("action_listen", timestamp=stamp),
            UserUttered("my number is 021 123 4567", timestamp=stamp),
            BotUttered("thanks", timestamp=stamp),
            *extra,
        ],
    )


def answered(reply: str = FORGOTTEN) -> BotUttered:
    """The forget action's answer, as Rasa records a reply the action server named."""
    return BotUttered("Done.", metadata={"utter_action": reply})


@pytest.mark.parametrize("reply", [FORGOTTEN, FORGET_QUEUED])
def test_a_conversation_is_kept_until_the_person_asks_to_be_forgotten(store, reply):
    tracker = conversation("alice", NOW)
    asyncio.run(store.save(tracker))
    assert asyncio.run(store.retrieve("alice")) is not None
    tracker.update(UserUttered("delete my data"))
    tracker.update(ActionExecuted(FORGET_ACTION))
    tracker.update(answered(reply))
    asyncio.run(store.save(tracker))
    assert asyncio.run(store.retrieve("alice")) is None


def test_a_forget_action_that_failed_deletes_nothing(store):
    """Rasa logs the action even when the action server failed: the handoff details were
    not deleted then, so the conversation is not either (all or nothing)."""
    tracker = conversation(
        "dora", NOW, UserUttered("delete my data"), ActionExecuted(FORGET_ACTION)
    )
    asyncio.run(store.save(tracker))
    assert asyncio.run(store.retrieve("dora")) is not None


def test_the_forget_replies_are_the_actions(store):
    assert set(FORGET_REPLIES) == {FORGOTTEN, FORGET_QUEUED}


def test_forgetting_one_conversation_leaves_the_others(store):
    asyncio.run(store.save(conversation("alice", NOW)))
    bob = conversation(
        "bob", NOW, UserUttered("forget me"), ActionExecuted(FORGET_ACTION), answered()
    )
    states = Domain.empty().states_for_tracker_history  # kept in memory (bot/rasa_speedups.py)
    states(bob)
    states(conversation("alice", NOW))
    asyncio.run(store.save(bob))
    assert asyncio.run(store.retrieve("alice")) is not None
    assert asyncio.run(store.retrieve("bob")) is None
    assert {key[1] for key in rasa_speedups._conversations} >= {"alice"}
    assert "bob" not in {key[1] for key in rasa_speedups._conversations}


def test_the_forget_action_in_an_earlier_turn_does_not_erase_later_turns(store):
    tracker = conversation(
        "carol", NOW, ActionExecuted(FORGET_ACTION), answered(), UserUttered("hi again")
    )
    asyncio.run(store.save(tracker))
    assert asyncio.run(store.retrieve("carol")) is not None


def test_retention_deletes_only_conversations_inactive_past_the_limit(store, tmp_path):
    asyncio.run(store.save(conversation("old", NOW - timedelta(days=40))))
    asyncio.run(store.save(conversation("recent", NOW - timedelta(days=5))))
    revived = conversation("revived", NOW - timedelta(days=40))
    revived.update(UserUttered("back again", timestamp=(NOW - timedelta(days=1)).timestamp()))
    asyncio.run(store.save(revived))
    url = f"sqlite:///{tmp_path / 't.db'}"
    assert delete_old_conversations(url, NOW, days=30) == 1
    assert asyncio.run(store.retrieve("old")) is None
    assert asyncio.run(store.retrieve("recent")) is not None
    assert asyncio.run(store.retrieve("revived")) is not None
    assert delete_old_conversations(url, NOW, days=30) == 0  # safe to run again (cron)


def test_retention_on_a_database_without_conversations_does_nothing(tmp_path):
    assert delete_old_conversations(f"sqlite:///{tmp_path / 'empty.db'}", NOW, days=30) == 0


def test_retention_refuses_a_nonsense_limit(tmp_path):
    with pytest.raises(ValueError):
        delete_old_conversations(f"sqlite:///{tmp_path / 'x.db'}", NOW, days=0)


def test_the_tracker_store_url_comes_from_endpoints(tmp_path):
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text('tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "/srv/a.db"\n')
    assert tracker_store_url(endpoints) == "sqlite:////srv/a.db"
    endpoints.write_text(
        "tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: db.local\n"
        "  port: 5432\n  db: rasa\n  username: u\n  password: p\n"
    )
    assert tracker_store_url(endpoints) == "postgresql://u:p@db.local:5432/rasa"
    assert tracker_store_url().endswith("var/awhina.db")


def test_old_sms_message_ids_are_forgotten(tmp_path, templates: Templates):
    from bot.channels.models import SmsInbound
    from bot.db import session_scope
    from bot.privacy import delete_old_sms_receipts

    url = templates.empty(tmp_path / "sms.db")
    with session_scope(url) as session:
        session.add(SmsInbound(message_sid="SMold", received_at=NOW - timedelta(days=40)))
        session.add(SmsInbound(message_sid="SMnew", received_at=NOW - timedelta(days=2)))
    with session_scope(url) as session:
        assert delete_old_sms_receipts(session, NOW, days=30) == 1
    with session_scope(url) as session:
        assert [r.message_sid for r in session.query(SmsInbound)] == ["SMnew"]


def test_the_tracker_store_forgets_after_the_action_server_s_forget_action():
    assert ActionForgetMe().name() == FORGET_ACTION


# What the action server loads (bot/action_server.py): its start-up modules and every action.
ACTION_SERVER_IMPORTS = """
import sys
import bot.handoff.outbox, bot.handoff.routing
from rasa_sdk.executor import ActionExecutor
executor = ActionExecutor()
executor.register_package("actions")
assert "action_forget_me" in executor.actions
print("\\n".join(sorted(sys.modules)))
"""


@pytest.mark.processes
def test_the_action_server_does_not_load_rasas_tracker_store():
    """It forgets through bot.handoff.service; the tracker store is the Rasa server's."""
    loaded = subprocess.run(
        [sys.executable, "-c", ACTION_SERVER_IMPORTS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.split()
    assert "actions.privacy" in loaded and "rasa_sdk" in loaded
    assert "rasa.core.tracker_store" not in loaded
    assert "bot.privacy" not in loaded
