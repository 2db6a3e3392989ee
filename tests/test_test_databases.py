"""The suite's PostgreSQL databases (tests/conftest.py ``Templates``): a run killed before it
could drop its own has them dropped by the next run on the same machine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

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
            templates._server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
