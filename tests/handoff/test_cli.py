"""The command line: teams, navigator accounts, demo logins, escalation and retention."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.__main__ import main
from bot.clock import FROZEN_TIME
from bot.config import ROOT
from bot.db import get_engine, session_scope
from bot.handoff.accounts import authenticate, navigator_for_token
from bot.handoff.models import HandoffRequest, Navigator, NavigatorTeam
from bot.handoff.service import submit
from bot.migrate import upgrade
from tests.conftest import SATURDAY_NIGHT, TUESDAY_MORNING, Templates
from tests.handoff.conftest import DRAFT, NOW, load_directory_and_teams


@pytest.fixture
def cli_url(tmp_path, monkeypatch) -> str:
    """An empty SQLite database that ``python -m bot`` uses through DATABASE_URL."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    monkeypatch.delenv("NAVIGATOR_PASSWORD", raising=False)
    monkeypatch.delenv("RETENTION_DAYS", raising=False)
    yield url
    get_engine(url).dispose()


@pytest.fixture
def loaded(cli_url, templates: Templates) -> str:
    """The database ``python -m bot directory load`` makes (test_load_teams_and_a_bad_file
    runs it): a copy of the handoff tests' template, the seed and the teams."""
    return templates.sqlite("handoff", load_directory_and_teams, Path(make_url(cli_url).database))


def test_load_teams_and_a_bad_file(cli_url, capsys, tmp_path):
    assert main(["directory", "load", "--quiet"]) == 0
    assert "Loaded 5 navigator teams" in capsys.readouterr().out  # the teams too
    assert main(["handoff", "load-teams"]) == 0
    assert "Loaded 5 navigator teams" in capsys.readouterr().out
    bad = tmp_path / "bad.yml"
    bad.write_text("teams:\n  - {id: x, name: X, organization: nope, level: local, areas: [nz]}\n")
    assert main(["handoff", "load-teams", str(bad)]) == 1
    assert "error: team 'x': unknown organisation 'nope'" in capsys.readouterr().err
    with session_scope(cli_url) as session:
        assert session.get(NavigatorTeam, "x") is None


def test_navigator_create_with_the_password_from_the_environment(loaded, capsys, monkeypatch):
    monkeypatch.setenv("NAVIGATOR_PASSWORD", "a long enough passphrase")
    argv = ["navigator", "create", "--email", "Mere@example.org", "--name", "Mere"]
    assert main([*argv, "--team", "grey-navigators"]) == 0
    assert "Created navigator" in capsys.readouterr().out
    with session_scope(loaded) as session:
        mere = authenticate(session, "mere@example.org", "a long enough passphrase")
        assert (
            mere.display_name == "Mere" and mere.organization_id == "sample-coast-meth-navigation"
        )
    assert main([*argv, "--team", "grey-navigators"]) == 1  # same email again
    assert "already exists" in capsys.readouterr().err
    assert main([*argv, "--team", "atlantis"]) == 1
    with pytest.raises(SystemExit):  # a password is never taken from the command line
        main([*argv, "--team", "grey-navigators", "--password", "x" * 20])


def test_navigator_create_prompts_twice(loaded, capsys, monkeypatch):
    import getpass

    typed = iter(["a long enough passphrase", "a long enough passphrase", "one", "two"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(typed))
    argv = ["navigator", "create", "--email", "a@example.org", "--name", "A", "--team"]
    assert main([*argv, "grey-navigators"]) == 0
    argv[3] = "b@example.org"
    assert main([*argv, "grey-navigators"]) == 1
    assert "do not match" in capsys.readouterr().err


def test_navigator_token_is_printed_once_and_works(loaded, capsys, monkeypatch):
    monkeypatch.setenv("NAVIGATOR_PASSWORD", "a long enough passphrase")
    main(
        [
            "navigator",
            "create",
            "--email",
            "m@example.org",
            "--name",
            "M",
            "--team",
            "grey-navigators",
        ]
    )
    capsys.readouterr()
    assert main(["navigator", "token", "--email", "M@example.org"]) == 0
    token = capsys.readouterr().out.strip()
    with session_scope(loaded) as session:
        assert navigator_for_token(session, token).email == "m@example.org"
    assert main(["navigator", "token", "--email", "nobody@example.org"]) == 1


def _logins(out: str) -> dict[str, str]:
    return dict(re.findall(r"email: (\S+)\s+password: (\S+)", out))


def test_navigator_demo_creates_then_resets_sample_logins(loaded, capsys):
    assert main(["navigator", "demo"]) == 0
    first = _logins(capsys.readouterr().out)
    assert len(first) == 6 and all(email.startswith("sample-") for email in first)
    assert "sample-coordinator@example.org" in first  # the insights page
    assert main(["navigator", "demo"]) == 0
    second = _logins(capsys.readouterr().out)
    assert second.keys() == first.keys()
    with session_scope(loaded) as session:
        assert session.query(Navigator).count() == 6
        for email, password in second.items():
            navigator = authenticate(session, email, password)
            assert navigator is not None and navigator.is_sample
            assert authenticate(session, email, first[email]) is None


def test_navigator_demo_never_touches_a_real_account(loaded, capsys, monkeypatch):
    monkeypatch.setenv("NAVIGATOR_PASSWORD", "a real person's passphrase")
    email = "sample-grey-navigators@example.org"
    main(["navigator", "create", "--email", email, "--name", "Real", "--team", "grey-navigators"])
    assert main(["navigator", "demo"]) == 1
    assert "real navigator" in capsys.readouterr().err
    with session_scope(loaded) as session:
        assert authenticate(session, email, "a real person's passphrase")
        assert session.query(Navigator).count() == 1  # the failed run changed nothing


# Where an unclaimed Greymouth request ends up: the regional team while it is staffed,
# else the national team.
CLOCKS = [
    pytest.param(TUESDAY_MORNING, "west-coast-navigators", 0, id="tuesday-10am"),
    pytest.param(SATURDAY_NIGHT, "national-navigators", 1, id="saturday-10pm"),
]


@pytest.mark.parametrize(("frozen", "team", "out_of_hours"), CLOCKS)
def test_retention_and_escalation_commands(loaded, capsys, monkeypatch, frozen, team, out_of_hours):
    monkeypatch.setenv(FROZEN_TIME, frozen)
    old = datetime.fromisoformat(frozen) - timedelta(days=40)
    with session_scope(loaded) as session:
        request_id = submit(session, DRAFT, "old", old).id
    assert main(["retention"]) == 2  # no number of days given
    assert main(["handoff", "escalate", "--minutes", "30"]) == 0
    assert f"Escalated 1 unclaimed and {out_of_hours} out-of-hours" in capsys.readouterr().out
    assert main(["retention", "--days", "60"]) == 0
    assert "of 0 handoff" in capsys.readouterr().out
    monkeypatch.setenv("RETENTION_DAYS", "30")
    assert main(["retention"]) == 0
    assert "of 1 handoff" in capsys.readouterr().out
    with session_scope(loaded) as session:
        request = session.get(HandoffRequest, request_id)
        assert request.contact_detail is None and request.forgotten_at is not None
        assert request.team_id == team


@pytest.mark.processes
@pytest.mark.parametrize(("frozen", "team", "out_of_hours"), CLOCKS)
def test_python_m_bot_escalates_by_the_frozen_clock(loaded, frozen, team, out_of_hours):
    """The variable reaches a separate process, as it reaches the servers the e2e tests start."""
    an_hour_ago = datetime.fromisoformat(frozen) - timedelta(hours=1)
    with session_scope(loaded) as session:
        request_id = submit(session, DRAFT, "waiting", an_hour_ago).id
    done = subprocess.run(
        [sys.executable, "-m", "bot", "handoff", "escalate"],
        cwd=ROOT,
        env={**os.environ, FROZEN_TIME: frozen},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert f"Escalated 1 unclaimed and {out_of_hours} out-of-hours" in done.stdout
    with session_scope(loaded) as session:
        assert session.get(HandoffRequest, request_id).team_id == team


def test_a_malformed_frozen_time_stops_a_command_before_it_starts(loaded, capsys, monkeypatch):
    with session_scope(loaded) as session:
        request_id = submit(session, DRAFT, "waiting", NOW).id
    monkeypatch.setenv(FROZEN_TIME, "Saturday night")
    assert main(["handoff", "escalate"]) == 2
    assert (
        "error: AWHINA_FROZEN_TIME='Saturday night' is not an ISO-8601" in capsys.readouterr().err
    )
    with session_scope(loaded) as session:
        assert session.get(HandoffRequest, request_id).team_id == "grey-navigators"


@pytest.mark.processes
def test_python_m_bot_runs_the_commands(tmp_path):
    url = f"sqlite:///{tmp_path / 'sub.db'}"
    upgrade(url)
    get_engine(url).dispose()
    env = {**os.environ, "DATABASE_URL": url, "NAVIGATOR_PASSWORD": "a long enough passphrase"}
    run = [sys.executable, "-m", "bot"]
    for argv in (
        ["directory", "load", "--quiet"],
        [
            "navigator",
            "create",
            "--email",
            "s@example.org",
            "--name",
            "S",
            "--team",
            "grey-navigators",
        ],
    ):
        done = subprocess.run([*run, *argv], cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    with session_scope(url) as session:
        assert session.execute(select(Navigator.email)).scalars().all() == ["s@example.org"]
    get_engine(url).dispose()
