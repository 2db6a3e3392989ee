"""Nothing lost: a request the database cannot take is kept on disk and submitted later."""

from __future__ import annotations

import asyncio
import stat
import threading
import time
from dataclasses import replace
from pathlib import Path

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.handoff import ActionSubmitHandoff
from bot.db import session_scope
from bot.handoff import outbox
from bot.handoff.models import HandoffRequest
from bot.handoff.service import HandoffDraft
from tests.handoff import conftest
from tests.handoff.conftest import confirmed_tracker

# Nothing listens on port 9 of loopback: every connection is refused at once.
UNREACHABLE = "postgresql://awhina:awhina@127.0.0.1:9/awhina?connect_timeout=2"
# The handoff tests' draft as a call request.
DRAFT = replace(
    conftest.DRAFT,
    conversation_id="conv-outbox",
    contact_method="call",
    need_summary="",
    audience=None,
    preferred_name="Mere",
    good_time=None,
)
MERE = {"handoff_name": "Mere", "handoff_good_time": "", "handoff_for": "whanau"}


def stored(url: str) -> list[HandoffRequest]:
    with session_scope(url) as session:
        return list(session.execute(select(HandoffRequest)).scalars())


def test_a_kept_request_is_private_and_submitted_once_the_database_is_back(url, tmp_path):
    path = outbox.keep(DRAFT, "conv-outbox:1", tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert outbox.flush(UNREACHABLE, tmp_path) == 0
    assert outbox.pending(tmp_path) == [path], "kept while the database is down"
    assert outbox.flush(url, tmp_path) == 1
    assert outbox.pending(tmp_path) == []
    [request] = stored(url)
    assert request.contact_detail == "+64211234567" and request.idempotency_key == "conv-outbox:1"


def test_a_request_that_reached_the_database_before_a_crash_is_not_duplicated(url, tmp_path):
    outbox.keep(DRAFT, "conv-outbox:1", tmp_path)
    outbox.flush(url, tmp_path)
    outbox.keep(DRAFT, "conv-outbox:1", tmp_path)
    outbox.flush(url, tmp_path)
    assert len(stored(url)) == 1


def test_an_invalid_kept_request_is_set_aside_not_retried_forever(url, tmp_path):
    (tmp_path / "broken.json").write_text('{"key": "k", "draft": {"nonsense": 1}}')
    (tmp_path / "garbled.json").write_text('{"key": "k", "dra')
    outbox.keep(DRAFT, "conv-outbox:2", tmp_path)
    assert outbox.flush(url, tmp_path) == 1
    assert (tmp_path / "broken.invalid").exists() and (tmp_path / "garbled.invalid").exists()


def test_forget_removes_a_conversations_kept_requests(tmp_path):
    outbox.keep(DRAFT, "conv-outbox:1", tmp_path)
    other = HandoffDraft(**{**DRAFT.__dict__, "conversation_id": "someone-else"})
    outbox.keep(other, "someone-else:1", tmp_path)
    assert outbox.forget("conv-outbox", tmp_path) == 1
    assert len(outbox.pending(tmp_path)) == 1


def test_the_bot_keeps_the_request_and_says_so_when_the_database_is_down(
    url, tmp_path, monkeypatch
):
    monkeypatch.setattr(outbox, "OUTBOX_DIR", tmp_path)
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionSubmitHandoff().run(dispatcher, confirmed_tracker("conv-down", **MERE), {}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_kept"]
    assert len(outbox.pending(tmp_path)) == 1
    monkeypatch.setenv("DATABASE_URL", url)
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionSubmitHandoff().run(dispatcher, confirmed_tracker("conv-down", **MERE), {}))
    assert outbox.pending(tmp_path) == []
    assert [r.conversation_id for r in stored(url)] == ["conv-down"], "one request, not two"
    assert dispatcher.messages[0]["response"] == "utter_handoff_sent_sample"  # the sample teams


def test_outbox_files_never_land_outside_the_directory(tmp_path):
    path = outbox.keep(DRAFT, "../../etc/passwd", tmp_path)
    assert Path(path).parent == tmp_path


def test_the_retry_thread_submits_kept_requests_until_stopped(url, tmp_path):
    outbox.keep(DRAFT, "conv-outbox:3", tmp_path)
    stop = threading.Event()
    thread = threading.Thread(target=outbox.keep_retrying, args=(stop, 0.05, url, tmp_path))
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while outbox.pending(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert outbox.pending(tmp_path) == []
    assert [r.idempotency_key for r in stored(url)] == ["conv-outbox:3"]
