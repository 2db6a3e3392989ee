"""Loading the directory seed: idempotent, validated, and migrations keep data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text

from bot.config import NZ
from bot.db import get_engine, session_scope
from bot.directory import seed
from bot.directory.hours import describe
from bot.directory.models import Location, Phone, Service
from bot.directory.query import get_services
from bot.migrate import alembic_config, upgrade


def _count(url: str, model) -> int:
    with session_scope(url) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_loading_twice_changes_nothing(db_url):
    with session_scope(db_url) as session:
        first = seed.load(session)
    services, phones = _count(db_url, Service), _count(db_url, Phone)
    with session_scope(db_url) as session:
        assert seed.load(session) == first
    assert (_count(db_url, Service), _count(db_url, Phone)) == (services, phones)
    assert services == first > 20


def test_reload_updates_an_edited_record(db_url, tmp_path):
    path = tmp_path / "one.yml"
    record = """
organizations:
  - id: test-org
    name: Test org
    services:
      - id: test-service
        name: Test service
        needs: [housing]
        areas: [greymouth]
        phones: [{number: "03 768 0000"}]
        source: a test
"""
    path.write_text(record)
    with session_scope(db_url) as session:
        seed.load(session, path)
    path.write_text(record.replace("03 768 0000", "03 768 1111"))
    with session_scope(db_url) as session:
        seed.load(session, path)
    with session_scope(db_url) as session:
        numbers = session.execute(select(Phone.number)).scalars().all()
    assert numbers == ["03 768 1111"]


def test_hours_until_midnight_load_as_teams_hours_do(db_url, tmp_path):
    """services.yml reads hours with teams.yml's parser: "24:00" is the end of the day."""
    path = tmp_path / "late.yml"
    path.write_text(
        "organizations:\n  - id: o\n    name: O\n    services:\n      - id: s\n"
        "        name: S\n        needs: [housing]\n        areas: [nz]\n        source: a test\n"
        "        hours: [{days: FR-SA, opens: '18:00', closes: '24:00'}]\n"
    )
    with session_scope(db_url) as session:
        seed.load(session, path)
    with session_scope(db_url) as session:
        [view] = get_services(session, ["s"])
    assert describe(view.hours) == "Fri, Sat 6pm–midnight"
    assert view.is_open(datetime(2026, 12, 4, 23, 59, tzinfo=NZ))
    assert not view.is_open(datetime(2026, 12, 5, 0, 0, tzinfo=NZ))


@pytest.mark.parametrize(
    "bad, message",
    [
        ("source: ''", "'source' is required"),
        ("source: shared/reference/nz-helplines.md", "'source' names a file"),
        ("source: 'Healthify (data/directory/services.yml)'", "'source' names a file"),
        ("areas: [atlantis]", "unknown place"),
        ("needs: [fishing]", "unknown need"),
        ('phones: [{number: "call us"}]', "not a NZ number"),
        ("colour: blue", "unknown fields"),
        ("hours: [{days: XX, opens: '09:00', closes: '17:00'}]", "bad hours"),
    ],
)
def test_invalid_records_are_rejected_with_a_clear_message(db_url, tmp_path, bad, message):
    base = {
        "source": "source: a test",
        "areas": "areas: [nz]",
        "needs": "needs: [housing]",
    }
    key = bad.split(":")[0]
    fields = {**base, key: bad}
    path = tmp_path / "bad.yml"
    path.write_text(
        "organizations:\n  - id: o\n    name: O\n    services:\n      - id: s\n        name: S\n"
        + "".join(f"        {line}\n" for line in fields.values())
    )
    with pytest.raises(seed.SeedError, match=message), session_scope(db_url) as session:
        seed.load(session, path)
    assert _count(db_url, Service) == 0


def test_not_yaml_is_a_seed_error(tmp_path):
    path = tmp_path / "broken.yml"
    path.write_bytes(b"organizations: [\x00\xff")
    with pytest.raises(seed.SeedError):
        seed.read_seed(path)


def test_upgrade_keeps_existing_data(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url)
    with session_scope(url) as session:
        seed.load(session)
    before = _count(url, Service)
    upgrade(url)  # running migrations again is a no-op that keeps data
    assert _count(url, Service) == before
    with get_engine(url).connect() as conn:
        version = conn.execute(text("select version_num from alembic_version")).scalar()
    assert version == ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def test_sample_organisation_ids_are_not_for_the_directory(db_url, tmp_path):
    path = tmp_path / "sample.yml"
    path.write_text(
        "organizations:\n  - id: sample-x\n    name: X\n    services:\n      - id: s\n"
        "        name: S\n        needs: [housing]\n        areas: [nz]\n        source: a test\n"
    )
    with (
        pytest.raises(seed.SeedError, match="'sample-' are for samples"),
        session_scope(db_url) as session,
    ):
        seed.load(session, path)


def test_a_percent_in_the_database_url_reaches_alembic_unchanged():
    """A percent-encoded password ("p%40ss") would break Alembic's ConfigParser."""
    url = "postgresql://awhina:p%40ss@127.0.0.1/awhina"
    assert alembic_config(url).get_main_option("sqlalchemy.url") == url


def _one_location(tmp_path: Path, location: str) -> Path:
    """A seed file of one national housing service at ``location`` (a YAML flow mapping)."""
    path = tmp_path / "one-location.yml"
    path.write_text(
        "organizations:\n  - id: o\n    name: O\n    services:\n      - id: s\n        name: S\n"
        f"        needs: [housing]\n        areas: [nz]\n        source: a test\n"
        f"        locations: [{location}]\n"
    )
    return path


@pytest.mark.parametrize(
    ("location", "place"),
    [
        ("{place: buller, latitude: -41.754, longitude: 171.603}", "westport"),
        ("{latitude: -45.874, longitude: 170.504}", "dunedin-city"),
        ("{place: reefton, latitude: -41.754, longitude: 171.603}", "reefton"),
        ("{place: buller}", "buller"),
    ],
)
def test_a_location_with_coordinates_gets_the_nearest_place(db_url, tmp_path, location, place):
    with session_scope(db_url) as session:
        seed.load(session, _one_location(tmp_path, location))
    with session_scope(db_url) as session:
        assert session.execute(select(Location.place_key)).scalars().all() == [place]


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("{place: buller, latitude: north, longitude: 171.6}", "latitude 'north' is not a number"),
        ("{latitude: -41.7, longitude: 71.6}", "not in New Zealand"),
        ("{latitude: -43.88, longitude: 169.04}", "needs a 'place'"),
        ("{name: Somewhere}", "needs a 'place'"),
    ],
)
def test_a_location_with_bad_coordinates_is_refused(db_url, tmp_path, location, message):
    path = _one_location(tmp_path, location)
    with pytest.raises(seed.SeedError, match=message), session_scope(db_url) as session:
        seed.load(session, path)
