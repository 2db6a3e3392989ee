"""A person's request never walks everyone's outbox, and never blocks the action server's loop."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace

from rasa_sdk.executor import CollectingDispatcher

import actions.handoff
from actions.handoff import ActionSubmitHandoff
from bot.handoff import outbox
from tests.handoff.conftest import confirmed_tracker
from tests.handoff.test_outbox import DRAFT, MERE, UNREACHABLE, stored


def _submitted(url, tmp_path, monkeypatch, sender: str = "conv-person") -> list[str]:
    monkeypatch.setattr(outbox, "OUTBOX_DIR", tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionSubmitHandoff().run(dispatcher, confirmed_tracker(sender, **MERE), {}))
    return [m["response"] for m in dispatcher.messages]


def test_a_persons_request_leaves_other_kept_requests_to_the_retry_thread(
    url, tmp_path, monkeypatch
):
    others = outbox.keep(replace(DRAFT, conversation_id="someone-else"), "someone-else:1", tmp_path)
    assert _submitted(url, tmp_path, monkeypatch)[0] == "utter_handoff_sent_sample"
    assert outbox.pending(tmp_path) == [others]
    assert [r.conversation_id for r in stored(url)] == ["conv-person"]


def test_a_request_kept_while_the_database_was_down_is_dropped_once_it_goes(
    url, tmp_path, monkeypatch
):
    assert _submitted(UNREACHABLE, tmp_path, monkeypatch, "conv-down") == ["utter_handoff_kept"]
    assert len(outbox.pending(tmp_path)) == 1
    assert _submitted(url, tmp_path, monkeypatch, "conv-down")[0] == "utter_handoff_sent_sample"
    assert outbox.pending(tmp_path) == []
    assert [r.conversation_id for r in stored(url)] == ["conv-down"]


def test_the_database_is_called_off_the_event_loop(url, tmp_path, monkeypatch):
    threads = []
    real = actions.handoff.submit

    def watched(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(actions.handoff, "submit", watched)
    _submitted(url, tmp_path, monkeypatch)
    assert threads and threading.main_thread() not in threads
