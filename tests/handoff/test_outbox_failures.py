"""The outbox tells a temporary failure from a permanent one, and forgetting and
retention reach every file it holds (kept, set aside, or half-written)."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select

from bot.__main__ import main
from bot.clock import FROZEN_TIME
from bot.db import session_scope
from bot.handoff import outbox
from bot.handoff.models import HandoffRequest, NavigatorTeam, NavigatorTeamArea, NavigatorTeamHours
from bot.handoff.routing import load_teams
from tests.conftest import Templates
from tests.handoff.test_outbox import DRAFT

NOW = datetime(2026, 11, 30, 22, 0, tzinfo=timezone.utc)


def _no_teams(url: str) -> None:
    with session_scope(url) as session:
        for model in (NavigatorTeamArea, NavigatorTeamHours, NavigatorTeam):
            session.execute(delete(model))


def _files(directory) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def test_no_team_yet_is_temporary_the_request_goes_once_teams_are_loaded(url, tmp_path):
    tmp_path = tmp_path / "outbox"
    _no_teams(url)
    path = outbox.keep(DRAFT, "conv-outbox:1", tmp_path)
    assert outbox.flush(url, tmp_path) == 0
    assert outbox.pending(tmp_path) == [path], "kept for the next try, not set aside"
    assert not list(tmp_path.glob("*.invalid"))
    with session_scope(url) as session:
        load_teams(session)
    assert outbox.flush(url, tmp_path) == 1
    with session_scope(url) as session:
        [request] = session.execute(select(HandoffRequest)).scalars()
        assert request.idempotency_key == "conv-outbox:1"
    assert _files(tmp_path) == []


def test_a_request_that_can_never_be_taken_is_set_aside(url, tmp_path):
    tmp_path = tmp_path / "outbox"
    outbox.keep(replace(DRAFT, consent=False), "conv-outbox:1", tmp_path)
    outbox.keep(DRAFT, "conv-outbox:2", tmp_path)
    assert outbox.flush(url, tmp_path) == 1
    assert [p.suffix for p in tmp_path.iterdir()] == [".invalid"]
    assert outbox.flush(url, tmp_path) == 0


def _every_kind(tmp_path, conversation_id: str) -> None:
    """A kept request, one set aside, and one a crash left half-written (unreadable)."""
    draft = replace(DRAFT, conversation_id=conversation_id)
    outbox.keep(draft, f"{conversation_id}:1", tmp_path)
    outbox.keep(draft, f"{conversation_id}:2", tmp_path).rename(
        tmp_path / outbox.file_name(draft, f"{conversation_id}:2", ".invalid")
    )
    (tmp_path / outbox.file_name(draft, f"{conversation_id}:3", ".tmp")).write_text('{"ke')


def test_forget_reaches_set_aside_and_half_written_files(tmp_path):
    _every_kind(tmp_path, "conv-outbox")
    _every_kind(tmp_path, "someone-else")
    assert len(_files(tmp_path)) == 6
    assert outbox.forget("conv-outbox", tmp_path) == 3
    remaining = _files(tmp_path)
    assert len(remaining) == 3
    for name in remaining:
        assert "conv-outbox" not in (tmp_path / name).read_text()


def test_forget_reads_files_kept_before_names_said_whose_they_were(tmp_path):
    outbox.keep(DRAFT, "conv-outbox:1", tmp_path).rename(tmp_path / "0123abcd.invalid")
    assert outbox.forget("conv-outbox", tmp_path) == 1
    assert _files(tmp_path) == []


def test_retention_removes_every_kind_of_file_older_than_the_limit(tmp_path):
    _every_kind(tmp_path, "old")
    old = (NOW - timedelta(days=31)).timestamp()
    for path in tmp_path.iterdir():
        os.utime(path, (old, old))
    _every_kind(tmp_path, "recent")
    recent = (NOW - timedelta(days=29)).timestamp()
    for path in tmp_path.glob(f"{outbox.conversation_tag('recent')}-*"):
        os.utime(path, (recent, recent))
    assert outbox.apply_retention(NOW, 30, tmp_path) == 3
    assert len(_files(tmp_path)) == 3
    assert outbox.apply_retention(NOW, 30, tmp_path / "missing") == 0


def test_the_retention_command_reaches_the_outbox(
    tmp_path, monkeypatch, capsys, templates: Templates
):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    monkeypatch.setenv(FROZEN_TIME, NOW.isoformat())
    monkeypatch.setattr(outbox, "OUTBOX_DIR", tmp_path / "outbox")
    templates.empty(tmp_path / "cli.db")
    _every_kind(tmp_path / "outbox", "old")
    old = (NOW - timedelta(days=31)).timestamp()
    for path in (tmp_path / "outbox").iterdir():
        os.utime(path, (old, old))
    assert main(["retention", "--days", "30"]) == 0
    assert "Deleted 3 handoff outbox file(s)" in capsys.readouterr().out
    assert _files(tmp_path / "outbox") == []
