"""The HSDS 3.0 importer: the official example package, round trips, our own export
coming back onto the seed, mapping files, and bad rows reported with nothing loaded."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.__main__ import main
from bot.db import session_scope
from bot.directory.hsds import models as core
from bot.directory.hsds.export import export
from bot.directory.hsds.importer import ImportFailed, Report, _snapshot, read, run_import
from bot.directory.hsds.mapping import MappingError, load_mapping, published_phone
from bot.directory.models import Attribute, Location, Phone, Schedule, Service, ServiceArea
from bot.directory.query import ServiceQuery, search
from tests.conftest import Templates
from tests.hsds.schemas import OFFICIAL

EXAMPLE = OFFICIAL / "examples-csv"
COUNSELLING = "ac148810-d857-441c-9679-408f346de14b"


def _import(url: str, path: Path, mapping: str = "openreferral-example", **kw) -> Report:
    with session_scope(url) as session:
        return run_import(session, read(path), load_mapping(mapping), **kw)


def _rows(url: str) -> dict:
    with session_scope(url) as session:
        return _snapshot(session)


def test_imports_the_official_example(db_url: str) -> None:
    report = _import(db_url, EXAMPLE)
    assert report.services == {"new": ["Community Counselling"]}
    with session_scope(db_url) as session:
        service = session.get(Service, COUNSELLING)
        assert service.name == "Community Counselling" and service.status == "active"
        assert service.source == "Open Referral HSDS 3.0 example data"
        assert service.free is False  # its cost option costs 35 gbp
        assert (service.minimum_age, service.maximum_age) == (12, 100)
        phone = session.execute(select(Phone)).scalar_one()
        assert (phone.number, phone.extension) == ("+441234234567", "100")
        schedule = session.execute(select(Schedule)).scalar_one()
        assert schedule.byday == "TH,FR" and schedule.description.startswith("The service")
        area = session.execute(select(ServiceArea)).scalar_one()
        assert area.place_key == "nz"  # MyCity is no place we know: the mapping's default
    # Links to records the package does not hold are dropped and said so, by file and line.
    assert "organizations.csv:2: parent_organization_id" in "\n".join(map(str, report.skipped))
    assert "attributes.csv:2: link_id" in "\n".join(map(str, report.skipped))
    # The core tables are kept as published; the rest are counted.
    assert {t: n for t, n in report.added.items() if t in core.MODELS} == dict.fromkeys(
        core.MODELS, 1
    )
    assert report.not_kept == dict.fromkeys(
        ("funding", "meta_table_description", "metadata", "organization_identifier"), 1
    )
    with session_scope(db_url) as session:
        cost = session.execute(select(core.CostOption)).scalar_one()
        assert (cost.option, cost.amount, cost.currency) == ("Under 18s and Over 60s", 35, "gbp")
        assert session.execute(select(core.Contact.name)).scalar_one() == "Ann Persona"


def test_importing_again_changes_nothing(db_url: str) -> None:
    _import(db_url, EXAMPLE)
    before = _rows(db_url)
    again = _import(db_url, EXAMPLE)
    assert (again.added, again.changed, again.removed) == ({}, {}, {})
    assert _rows(db_url) == before


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_round_trip_gives_the_same_rows(
    db_url: str, tmp_path: Path, fmt: str, templates: Templates
) -> None:
    """import -> export -> import into an empty database: the same rows."""
    _import(db_url, EXAMPLE)
    with session_scope(db_url) as session:
        export(session, fmt, tmp_path / "out")
    other = templates.empty(tmp_path / "other.db")
    _import(other, tmp_path / "out")
    assert _rows(other) == _rows(db_url)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_our_own_export_comes_back_onto_the_seed(seeded_url: str, tmp_path: Path, fmt: str) -> None:
    before = _rows(seeded_url)
    with session_scope(seeded_url) as session:
        export(session, fmt, tmp_path)
    report = _import(seeded_url, tmp_path, mapping="awhina")
    assert (report.added, report.changed, report.removed) == ({}, {}, {})
    assert _rows(seeded_url) == before


def _bad_copy(tmp_path: Path) -> Path:
    package = tmp_path / "bad"
    shutil.copytree(EXAMPLE, package)
    for name, column, value in (
        ("services.csv", "status", "open"),
        ("phones.csv", "number", "ring reception"),
        ("locations.csv", "latitude", "north"),
    ):
        path = package / name
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        rows[0][column] = value
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return package


def test_bad_rows_are_reported_precisely_and_nothing_is_loaded(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed) as failed:
        _import(db_url, _bad_copy(tmp_path))
    found = sorted(str(p) for p in failed.value.problems)
    assert len(found) == 3
    assert found[0] == "locations.csv:2: latitude: expected a number, got 'north'"
    assert found[1] == "phones.csv:2: number: 'ring reception' is not a phone number"
    assert found[2].startswith("services.csv:2: status: 'open' is not one of")
    with session_scope(db_url) as session:
        assert session.execute(select(func.count()).select_from(Service)).scalar() == 0


def test_full_marks_missing_services_inactive_and_deletes_none(seeded_url: str) -> None:
    with session_scope(seeded_url) as session:
        seeded = session.execute(select(func.count()).select_from(Service)).scalar()
    report = _import(seeded_url, EXAMPLE, full=True)
    assert len(report.services["inactive"]) == seeded
    with session_scope(seeded_url) as session:
        statuses = dict(session.execute(select(Service.id, Service.status)).all())
    assert len(statuses) == seeded + 1
    assert statuses.pop(COUNSELLING) == "active"
    assert set(statuses.values()) == {"inactive"}


def _service_json(tmp_path: Path) -> Path:
    """A service as a partner's HSDS API returns it (a page of compiled services)."""
    term = {
        "id": "7d1c1f3e-9b1e-4c55-8a8e-3f2d4c1b0a99",
        "name": "Counselling",
        "description": "Talking therapies",
        "code": "code",
        "taxonomy": "taxonomy",
    }
    service = {
        "id": "3c9f1f9a-2b8e-4d7e-9a51-1f0e2d3c4b5a",
        "name": "Talk it through",
        "status": "active",
        "organization": {
            "id": "0b7f3e1a-5c2d-4e8f-9a1b-2c3d4e5f6a7b",
            "name": "A West Coast trust",
            "description": "",
        },
        "phones": [{"id": "6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d", "number": "(03) 768-1234 ext 5"}],
        "schedules": [
            {"id": "9e8d7c6b-5a4f-4e3d-8c1b-0a9f8e7d6c5b", "description": "By appointment"}
        ],
        "service_areas": [{"id": "1f2e3d4c-5b6a-4789-8a0b-1c2d3e4f5a6b", "name": "Westport"}],
        "attributes": [
            {
                "id": "2a3b4c5d-6e7f-4809-9a1b-2c3d4e5f6a7c",
                "taxonomy_term_id": term["id"],
                "taxonomy_term": term,
            }
        ],
    }
    path = tmp_path / "page.json"
    page = {"total_items": 1, "page_number": 1, "contents": [service]}
    path.write_text(json.dumps(page), encoding="utf-8")
    return path


def test_a_partners_api_page_maps_terms_places_and_phones(db_url: str, tmp_path: Path) -> None:
    report = _import(db_url, _service_json(tmp_path))
    assert report.services == {"new": ["Talk it through"]}
    with session_scope(db_url) as session:
        sid = "3c9f1f9a-2b8e-4d7e-9a51-1f0e2d3c4b5a"
        phone = session.execute(select(Phone)).scalar_one()
        assert (phone.number, phone.extension, phone.service_id) == ("03 768 1234", "5", sid)
        assert session.execute(select(ServiceArea.place_key)).scalar_one() == "westport"
        hours = session.execute(select(Schedule)).scalar_one()  # given only as text
        assert (hours.description, hours.byday, hours.opens_at) == ("By appointment", None, None)
        needs = session.execute(
            select(Attribute.taxonomy_term_id, Attribute.value).where(
                Attribute.link_id == sid, Attribute.link_type == "need"
            )
        ).all()
        assert needs == [("need:mental_health", "primary")]
        # The bot finds it for that need in that town; text-only hours are no opening times.
        found = search(session, ServiceQuery(need="mental_health", place="westport"))
        view = next(v for v in found.services if v.name == "Talk it through")
        assert view.hours == ()


def test_the_cli_dry_run_writes_nothing(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    args = ["directory", "import", "--dry-run", "--mapping", "openreferral-example"]
    assert main([*args, str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "service new: Community Counselling" in out and "Dry run: nothing written" in out
    with session_scope(db_url) as session:
        assert session.get(Service, COUNSELLING) is None


def test_the_cli_shows_progress_on_stderr_when_asked(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    args = ["directory", "import", "--mapping", "openreferral-example", str(EXAMPLE)]
    assert main(args) == 0
    assert "checking" not in capsys.readouterr().err  # not a terminal: no bar
    assert main([*args, "--progress"]) == 0
    captured = capsys.readouterr()
    assert "checking: 100%" in captured.err and "checking" not in captured.out


def test_the_cli_reports_every_bad_row(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    package = _bad_copy(tmp_path)
    assert main(["directory", "import", "--mapping", "openreferral-example", str(package)]) == 1
    err = capsys.readouterr().err
    assert "error: locations.csv:2: latitude: expected a number" in err
    assert "error: services.csv:2: status: 'open' is not one of" in err
    assert "Nothing imported: 3 problem(s)" in err


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        ("(03) 768 1234", ("03 768 1234", None)),
        ("03-768 1234", ("03 768 1234", None)),
        ("03 768 1234 ext 12", ("03 768 1234", "12")),
        ("021-123-4567", ("021 123 4567", None)),
        ("0800530000", ("0800 530 000", None)),
        ("0800 53 00 00", ("0800 53 00 00", None)),
        ("1737", ("1737", None)),
        ('"+44 1234 234567"', ("+441234234567", None)),
    ],
)
def test_phone_numbers_as_published(published: str, expected: tuple) -> None:
    assert published_phone(published) == expected


def test_a_phone_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValueError, match="not a phone number"):
        published_phone("ring reception")


def test_a_mapping_naming_a_need_we_lack_is_refused(tmp_path: Path) -> None:
    (tmp_path / "partner.yml").write_text(
        "source: A partner\ndefault_place: nz\nterms:\n  - {id: x, need: astrology}\n",
        encoding="utf-8",
    )
    with pytest.raises(MappingError, match="unknown need 'astrology'"):
        load_mapping("partner", tmp_path)


def _example_with(tmp_path: Path, changes: dict[str, dict[str, str]]) -> Path:
    """The official example with columns of its (single) row in some files changed."""
    package = tmp_path / "changed"
    shutil.copytree(EXAMPLE, package)
    for name, values in changes.items():
        path = package / name
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        rows[0].update(values)
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return package


@pytest.mark.parametrize(
    ("city", "place"),
    [
        ("MyCity", "westport"),  # no town named: the nearest place to its coordinates
        ("Reefton", "reefton"),  # a known town keeps it, whatever the coordinates
        ("Buller", "westport"),  # a known district: its nearest town
    ],
)
def test_a_location_with_coordinates_gets_the_nearest_place(
    db_url: str, tmp_path: Path, city: str, place: str
) -> None:
    westport = {"latitude": "-41.754", "longitude": "171.603"}
    package = _example_with(tmp_path, {"locations.csv": westport, "addresses.csv": {"city": city}})
    _import(db_url, package)
    with session_scope(db_url) as session:
        assert session.execute(select(Location.place_key)).scalar_one() == place
