"""The suite's PostgreSQL databases (tests/conftest.py ``Templates``): a run killed before it
could drop its own has them dropped by the next run on the same machine, and a drop that
meets an autovacuum worker (which FORCE may not end without pg_signal_backend) still
drops."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests.conftest import PG_URL, Templates

# Above the kernel's largest pid, so no process has it.
NO_SUCH_PID = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1


def test_a_killed_run_s_databases_are_dropped_and_no_one_else_s(tmp_path: Path):
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("DATABASE_URL_PG must be set in CI: .ci/run starts PostgreSQL")
        pytest.skip("DATABASE_URL_PG not set (PostgreSQL tests run in CI)")
    templates = Templates(tmp_path, PG_URL)
    base = make_url(PG_URL).database
    killed = f"{templates.ours}gw7_{NO_SUCH_PID}_seeded"
    running = f"{templates.ours}gw7_{os.getpid()}_seeded"
    elsewhere = f"{base}_zzzzzz_gw7_{NO_SUCH_PID}_seeded"  # another machine's run
    made = (killed, running, elsewhere)
    for name in made:
        templates._server(f'CREATE DATABASE "{name}"')
    try:
        templates.drop_orphans()
        left = set(templates._server("SELECT datname FROM pg_database"))
        assert killed not in left
        assert running in left and elsewhere in left
    finally:
        for name in made:
            templates.drop(name)


class _Refusal(Exception):
    def __init__(self, pgcode: str) -> None:
        super().__init__(pgcode)
        self.pgcode = pgcode


class _ScriptedServer(Templates):
    """Templates whose server answers each statement from ``answers`` in turn: None
    succeeds, a code fails with that SQLSTATE."""

    def __init__(self, tmp_path: Path, answers: list[str | None]) -> None:
        super().__init__(tmp_path, "postgresql://u:p@localhost/awhina_test")
        self.answers = answers
        self.sent: list[str] = []

    def _server(self, sql: str) -> list[Any]:
        self.sent.append(sql)
        code = self.answers.pop(0)
        if code is not None:
            raise DBAPIError(sql, None, _Refusal(code))
        return []


FORCE = 'DROP DATABASE IF EXISTS "x" WITH (FORCE)'
PLAIN = 'DROP DATABASE IF EXISTS "x"'


def test_a_drop_refused_force_by_an_autovacuum_worker_drops_without_it(tmp_path: Path):
    server = _ScriptedServer(tmp_path, ["42501", None])
    server.drop("x", pause=0)
    assert server.sent == [FORCE, PLAIN]


def test_a_plain_drop_meeting_a_session_goes_back_to_force(tmp_path: Path):
    server = _ScriptedServer(tmp_path, ["42501", "55006", None])
    server.drop("x", pause=0)
    assert server.sent == [FORCE, PLAIN, FORCE]


def test_any_other_failure_of_a_drop_is_raised_at_once(tmp_path: Path):
    server = _ScriptedServer(tmp_path, ["3D000"])
    with pytest.raises(DBAPIError):
        server.drop("x", pause=0)
    assert server.sent == [FORCE]


def test_a_drop_gives_up_after_its_attempts(tmp_path: Path):
    server = _ScriptedServer(tmp_path, ["42501", "55006", "42501"])
    with pytest.raises(DBAPIError) as raised:
        server.drop("x", attempts=3, pause=0)
    assert raised.value.orig.pgcode == "42501"
    assert server.sent == [FORCE, PLAIN, FORCE]
