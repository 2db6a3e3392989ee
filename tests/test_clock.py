"""The one clock: frozen by AWHINA_FROZEN_TIME (also in subprocesses), and read nowhere else."""

from __future__ import annotations

import ast
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot import clock
from bot.clock import FROZEN_TIME, ClockError
from bot.config import ROOT


def test_the_frozen_time_is_read_as_an_aware_utc_instant(monkeypatch):
    monkeypatch.setenv(FROZEN_TIME, "2026-11-28T22:05:00+13:00")
    assert clock.now() == datetime(2026, 11, 28, 9, 5, tzinfo=timezone.utc)
    assert clock.now().utcoffset() == timedelta(0)
    monkeypatch.setenv(FROZEN_TIME, "2026-12-01T10:00:00Z")
    assert clock.now() == datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("value", ["", "   "])
def test_unset_or_empty_the_real_clock_runs(monkeypatch, value):
    monkeypatch.setenv(FROZEN_TIME, value)
    before = datetime.now(timezone.utc)
    now = clock.now()
    assert before <= now <= datetime.now(timezone.utc) and now.tzinfo is timezone.utc
    monkeypatch.delenv(FROZEN_TIME)
    assert clock.frozen() is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("saturday night", "is not an ISO-8601 datetime"),
        ("2026-11-28 22:05", "(it has no offset)"),
        ("2026-02-30T10:00:00+13:00", "is not an ISO-8601 datetime"),
    ],
)
def test_a_malformed_frozen_time_is_refused_naming_the_variable(monkeypatch, value, problem):
    monkeypatch.setenv(FROZEN_TIME, value)
    with pytest.raises(ClockError) as refused:
        clock.now()
    message = str(refused.value)
    assert message.startswith(f"AWHINA_FROZEN_TIME={value!r} ") and problem in message
    assert "e.g. 2026-11-28T22:05:00+13:00" in message


@pytest.mark.processes
def test_a_subprocess_sees_the_same_frozen_time(monkeypatch):
    monkeypatch.setenv(FROZEN_TIME, "2026-12-01T10:00:00+13:00")
    done = subprocess.run(
        [sys.executable, "-c", "from bot import clock; print(clock.now().isoformat())"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "2026-11-30T21:00:00+00:00"


# Nothing but bot/clock.py reads the wall clock -----------------------------------------------

WALL_CLOCK = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
}


def wall_clock_reads(source: str) -> list[str]:
    """``datetime.now``, ``date.today``, ``time.time``… in the source, called or passed on."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            owner = node.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if (name, node.attr) in WALL_CLOCK:
                found.append(f"{node.lineno}: {name}.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module in ("datetime", "time"):
            for alias in node.names:
                if (node.module, alias.name) in WALL_CLOCK:
                    found.append(f"{node.lineno}: from {node.module} import {alias.name}")
    return found


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import datetime, timezone\nnow = datetime.now(timezone.utc)",
        "import datetime\nday = datetime.date.today()",
        "from datetime import date\nday = date.today()",
        "import time\nstamp = time.time()",
        "from time import time",
        "import datetime\nclock = field(default=datetime.datetime.utcnow)",
    ],
)
def test_the_check_finds_a_wall_clock_read(source):
    assert wall_clock_reads(source)


def test_the_check_allows_durations_and_parsing():
    source = (
        "import time\nfrom datetime import datetime\n"
        "started = time.monotonic()\nat = datetime.fromtimestamp(0)\nnow = clock.now()"
    )
    assert wall_clock_reads(source) == []


def test_only_bot_clock_reads_the_wall_clock():
    offenders = {
        str(path.relative_to(ROOT)): found
        for folder in ("bot", "actions")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path != ROOT / "bot" / "clock.py"
        and (found := wall_clock_reads(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "read the time through bot.clock.now() or take `now` as a parameter"
    assert wall_clock_reads(Path(clock.__file__).read_text(encoding="utf-8"))
