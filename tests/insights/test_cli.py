"""python -m bot insights demo: demo records only where every navigator team is a sample."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from bot.__main__ import main
from bot.db import get_engine, session_scope
from bot.handoff.models import Navigator, NavigatorTeam
from bot.insights.models import DemandRecord
from tests.conftest import Templates
from tests.handoff.conftest import load_directory_and_teams


@pytest.fixture
def loaded(tmp_path, monkeypatch, templates: Templates) -> str:
    """What ``python -m bot directory load`` makes (tests/handoff/test_cli.py runs it): a
    copy of the handoff tests' template, the seed and the sample teams."""
    url = templates.sqlite("handoff", load_directory_and_teams, tmp_path / "cli.db")
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    get_engine(url).dispose()


def _records(url: str) -> tuple[int, int]:
    with session_scope(url) as session:
        total = session.scalar(select(func.count()).select_from(DemandRecord))
        demo = session.scalar(select(func.count()).where(DemandRecord.demo.is_(True)))
    return total, demo


def test_demo_records_go_into_a_sample_database(loaded: str, capsys) -> None:
    assert main(["insights", "demo"]) == 0
    assert "marked demo" in capsys.readouterr().out
    total, demo = _records(loaded)
    assert total == demo > 52 * 100
    assert main(["insights", "demo"]) == 0  # replaced, not doubled
    assert _records(loaded) == (total, demo)


def test_never_into_a_database_with_real_teams(loaded: str, capsys) -> None:
    with session_scope(loaded) as session:
        session.execute(
            update(NavigatorTeam)
            .values(is_sample=False)
            .where(NavigatorTeam.id == "grey-navigators")
        )
    assert main(["insights", "demo"]) == 1
    assert "only sample teams" in capsys.readouterr().err
    assert main(["insights", "demo", "--if-sample"]) == 0
    assert "not written" in capsys.readouterr().out
    assert _records(loaded) == (0, 0)


def test_the_sample_logins_include_a_coordinator(loaded: str, capsys) -> None:
    assert main(["navigator", "demo"]) == 0
    assert "Insights page" in capsys.readouterr().out
    with session_scope(loaded) as session:
        roles = session.scalars(select(Navigator.role).order_by(Navigator.role)).all()
    assert roles.count("coordinator") == 1 and roles.count("navigator") == 5


def test_retention_keeps_demand_records_and_drops_old_week_keys(
    loaded: str, capsys, monkeypatch
) -> None:
    from datetime import date

    from bot.insights.models import WeekKey

    monkeypatch.setenv("TRACKER_DATABASE_URL", loaded.replace("cli.db", "tracker.db"))
    assert main(["insights", "demo"]) == 0
    with session_scope(loaded) as session:
        session.add_all(
            [
                WeekKey(week=date(2026, 11, 9), key="00" * 32),
                WeekKey(week=date(2026, 11, 23), key="11" * 32),
            ]
        )
    before = _records(loaded)
    assert main(["retention", "--days", "1"]) == 0
    assert _records(loaded) == before
    with session_scope(loaded) as session:
        assert session.scalars(select(WeekKey.week)).all() == [date(2026, 11, 23)]
