"""bot/directory/curation.py on SQLite and PostgreSQL: migrations 0013 and 0015 go down and
up, an edit is checked, saved, logged and reaches the search, phones keep their HSDS type,
a stale save is refused, "verified" travels as HSDS assured_date/assurer_email through an
export and an import, and the work lists find services."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, select

from bot.db import get_engine, session_scope
from bot.directory import curation, present, query
from bot.directory import models as dm
from bot.directory.curation import PhoneFact
from bot.directory.hsds.export import export
from bot.directory.hsds.ids import hsds_id
from bot.directory.hsds.importer import read, run_import
from bot.directory.hsds.mapping import load_mapping
from bot.migrate import alembic_config
from tests.conftest import Templates
from tests.hsds.schemas import csv_errors, errors

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)
WHO = curation.Curator("nav-1", "Mere", "mere@grey.example.org")
OTHER = curation.Curator("nav-2", "Aroha", "aroha@grey.example.org")
SERVICE = "te-nikau-hospital"
PHONES = [("03-768 0499 ext 2", "voice"), ("+61 2 9999 9999", "fax")]


def _columns(url: str, table: str) -> set[str]:
    get_engine(url).dispose()
    return {c["name"] for c in inspect(get_engine(url)).get_columns(table)}


def test_the_audit_table_goes_down_and_up_again(db_url: str) -> None:
    config = alembic_config(db_url)
    command.downgrade(config, "0014")
    assert not {"version", "assurer_email"} & _columns(db_url, "service")
    assert "version" not in _columns(db_url, "curation_change")
    command.downgrade(config, "0012")
    get_engine(db_url).dispose()
    assert "curation_change" not in inspect(get_engine(db_url)).get_table_names()
    command.upgrade(config, "head")
    get_engine(db_url).dispose()
    assert "curation_change" in inspect(get_engine(db_url)).get_table_names()
    assert {"version", "assurer_email"} <= _columns(db_url, "service")


def _form(**changes: str) -> dict[str, str]:
    return {
        "name": "Te Nikau Hospital and Health Centre",
        "description": "Greymouth's hospital.",
        "email": "",
        "website": "",
        "hours_text": "Outpatients by appointment",
        "kaupapa_maori": "yes",
        "free": "",
        **changes,
    }


def test_an_edit_is_saved_logged_and_searched(seeded_url: str) -> None:
    facts = curation.check(SERVICE, _form(), PHONES)
    assert facts.phones == (
        PhoneFact("03 768 0499", "2", "voice"),
        PhoneFact("+61299999999", None, "fax"),
    )
    with session_scope(seeded_url) as session:
        assert curation.save(session, SERVICE, facts, WHO, NOW, 0)
    with session_scope(seeded_url) as session:
        assert not curation.save(session, SERVICE, facts, WHO, NOW, 1)  # nothing changed
        found = query.search(
            session, query.ServiceQuery(need="health", place="greymouth", kaupapa_maori=True)
        )
        assert not found.relaxed and SERVICE in found.ids
        (view,) = query.get_services(session, [SERVICE])
        assert view.name == "Te Nikau Hospital and Health Centre" and view.kaupapa_maori
        assert [(p.number, p.type) for p in view.phones] == [
            ("03 768 0499", "voice"),
            ("+61299999999", "fax"),
        ]
        assert "Hours: Outpatients by appointment" in present.detail(view, NOW)
        (change,) = curation.changes(session, SERVICE)
        assert change.navigator_name == "Mere" and change.action == "edit"
        assert change.changed["kaupapa_maori"] == (False, True)
        assert change.changed["phones"][1] == ["03 768 0499 ext 2 (Voice)", "+61299999999 (Fax)"]
        assert change.version == 1 and curation.version_of(session, SERVICE) == 1
        assert "email" not in change.changed
        rows = session.scalars(select(curation.CurationChange)).all()
        assert len(rows) == 1


def test_bad_facts_name_every_field(seeded_url: str) -> None:
    with pytest.raises(curation.Invalid) as raised:
        curation.check(
            SERVICE, _form(name=" ", email="nope", free="perhaps"), [("ring us", "voice")]
        )
    assert set(raised.value.problems) == {"name", "phones", "email", "free"}


@pytest.mark.parametrize(
    ("changes", "phones", "field", "message"),
    [
        ({"name": "Te Nikau\x00"}, PHONES, "name", "control character"),
        ({"name": "Te Nikau\nHospital"}, PHONES, "name", "a line break"),
        ({"description": "Ring\x1b[2J us"}, PHONES, "description", "control character"),
        ({"hours_text": "9\u200b\x85to 5"}, PHONES, "hours_text", "control character"),
        ({"description": "x" * 4001}, PHONES, "description", "longer than 4000 characters"),
        ({"hours_text": "x" * 501}, PHONES, "hours_text", "longer than 500 characters"),
        ({"email": "a@b.nz" + "x" * 300}, PHONES, "email", "longer than 255"),
        ({}, [("03 768 0499", "carrier pigeon")], "phones", "choose one of the kinds"),
        ({}, [("03 768 0499", "")], "phones", "choose one of the kinds"),
        ({}, [("03 768 0499", "voice")] * 11, "phones", "at most 10 numbers"),
        ({}, [("03 768 0499'; DROP TABLE phone; --", "voice")], "phones", "not a phone number"),
    ],
)
def test_bad_input_gets_a_clear_error(
    changes: dict[str, str], phones: list[tuple[str, str]], field: str, message: str
) -> None:
    with pytest.raises(curation.Invalid) as raised:
        curation.check(SERVICE, _form(**changes), phones)
    assert set(raised.value.problems) == {field}
    assert message in raised.value.problems[field]


def test_text_that_looks_like_code_is_kept_as_text(seeded_url: str) -> None:
    """Markup and SQL in a name are only text: stored as typed (the page escapes it)."""
    name = "Te Nikau <script>alert(1)</script> '; DROP TABLE service; --"
    facts = curation.check(SERVICE, _form(name=name), PHONES)
    with session_scope(seeded_url) as session:
        curation.save(session, SERVICE, facts, WHO, NOW, 0)
    with session_scope(seeded_url) as session:
        assert curation.facts_of(session, SERVICE).name == name
        assert session.scalar(select(dm.Service.name).where(dm.Service.id == "buller-health"))


def test_a_phones_type_and_description_survive_an_edit(seeded_url: str) -> None:
    with session_scope(seeded_url) as session:
        curation.save(session, SERVICE, curation.check(SERVICE, _form(), PHONES), WHO, NOW, 0)
        session.flush()
        phone = session.scalars(select(dm.Phone).where(dm.Phone.number == "+61299999999")).one()
        phone.description = "Fax referrals here"
    texting = [(PHONES[1][0], "fax"), ("021 555 0199", "text")]
    with session_scope(seeded_url) as session:
        facts = curation.check(SERVICE, _form(description="Changed."), texting)
        assert curation.save(session, SERVICE, facts, WHO, NOW, 1)
    with session_scope(seeded_url) as session:
        rows = session.scalars(
            select(dm.Phone).where(dm.Phone.service_id == SERVICE).order_by(dm.Phone.position)
        ).all()
        assert [(p.number, p.type, p.description) for p in rows] == [
            ("+61299999999", "fax", "Fax referrals here"),
            ("021 555 0199", "text", None),
        ]
        assert curation.facts_of(session, SERVICE).phones[1] == PhoneFact(
            "021 555 0199", None, "text"
        )


def test_a_stale_save_is_refused_with_what_changed(seeded_url: str) -> None:
    """Two coordinators open version 0; the first save wins, the second is refused with the
    first one's change, and goes through once made over the version it was shown."""
    mine = curation.check(SERVICE, _form(description="Mine."), PHONES)
    theirs = curation.check(SERVICE, _form(description="Theirs."), [("03 768 0400", "voice")])
    with session_scope(seeded_url) as first, session_scope(seeded_url) as second:
        assert curation.version_of(first, SERVICE) == curation.version_of(second, SERVICE) == 0
        assert curation.save(first, SERVICE, theirs, OTHER, NOW, 0)
        first.commit()
        with pytest.raises(curation.Stale) as raised:
            curation.save(second, SERVICE, mine, WHO, NOW, 0)
    (change,) = raised.value.since
    assert raised.value.version == 1 and change.navigator_name == "Aroha"
    assert change.changed["description"][1] == "Theirs."
    with session_scope(seeded_url) as session:
        assert curation.facts_of(session, SERVICE).description == "Theirs."
        with pytest.raises(curation.Stale):
            curation.verify(session, SERVICE, WHO, NOW, 0)
    with session_scope(seeded_url) as session:
        assert curation.save(session, SERVICE, mine, WHO, NOW, raised.value.version)
    with session_scope(seeded_url) as session:
        assert curation.facts_of(session, SERVICE).description == "Mine."
        assert [c.navigator_name for c in curation.changes(session, SERVICE)] == ["Mere", "Aroha"]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_verified_travels_as_hsds_assured_date_and_assurer_email(
    seeded_url: str, tmp_path: Path, fmt: str, templates: Templates
) -> None:
    """Export -> import into an empty database: who verified and when come back, as do the
    phones' types; the export is valid HSDS."""
    with session_scope(seeded_url) as session:
        curation.save(session, SERVICE, curation.check(SERVICE, _form(), PHONES), WHO, NOW, 0)
        curation.verify(session, SERVICE, WHO, NOW, 1)
    with session_scope(seeded_url) as session:
        export(session, fmt, tmp_path / "out")
    if fmt == "json":
        services = json.loads((tmp_path / "out" / "services.json").read_text("utf-8"))
        (ours,) = [s for s in services if s["id"] == hsds_id("service", SERVICE)]
        assert (ours["assured_date"], ours["assurer_email"]) == ("2026-06-01", WHO.email)
        assert [p["type"] for p in ours["phones"]] == ["voice", "fax"]
        assert errors("compiled-service", ours) == []
    else:
        assert csv_errors(tmp_path / "out") == []
    other = templates.empty(tmp_path / "other.db")
    with session_scope(other) as session:
        run_import(session, read(tmp_path / "out"), load_mapping("awhina"))
    with session_scope(other) as session:
        service = session.get(dm.Service, hsds_id("service", SERVICE))
        assert (service.last_verified, service.assurer_email) == (date(2026, 6, 1), WHO.email)
        assert [(p.number, p.type) for p in service.phones] == [
            ("03 768 0499", "voice"),
            ("+61299999999", "fax"),
        ]


def test_the_lists(seeded_url: str) -> None:
    with session_scope(seeded_url) as session:
        never = {s.id for s in curation.services(session, date(2026, 6, 1), queue="never")}
        bare = {s.id for s in curation.services(session, date(2026, 6, 1), queue="no_contact")}
        buller = {s.id for s in curation.services(session, date(2026, 6, 1), district="buller")}
        curation.verify(session, SERVICE, WHO, NOW, 0)
        after = {s.id for s in curation.services(session, date(2026, 6, 1), queue="never")}
    assert SERVICE in never and SERVICE not in after
    assert {"buller-health", SERVICE} <= bare
    assert "buller-health" in buller and SERVICE in buller
    assert not any(s.startswith("healthline") for s in buller | bare)


@pytest.mark.parametrize(
    "website", ["javascript:alert(1)", "data:text/html,hi", "ftp://example.org", "http://", "www"]
)
def test_a_website_must_be_a_web_address(website: str) -> None:
    """People tap it: anything but an http(s) address with a host is refused, as the
    importer refuses it (one check: the importer's "uri" format)."""
    with pytest.raises(curation.Invalid) as raised:
        curation.check(SERVICE, _form(website=website), PHONES)
    assert set(raised.value.problems) == {"website"}
    assert curation.check(SERVICE, _form(website="https://www.westcoastdhb.org.nz/"), PHONES)


def test_an_import_that_changes_a_record_refuses_a_form_opened_before_it(
    seeded_url: str, tmp_path: Path
) -> None:
    """Our export with one description changed comes back onto the seed: only that service moves
    to its next version, the log names the import and what it wrote, and a form opened
    before the import is refused rather than saved over it. Importing it again changes
    nothing, so moves nothing."""
    with session_scope(seeded_url) as session:
        export(session, "json", tmp_path)
        seen = curation.version_of(session, SERVICE)
    path = tmp_path / "services.json"
    services = json.loads(path.read_text("utf-8"))
    (ours,) = [s for s in services if s["id"] == hsds_id("service", SERVICE)]
    ours["description"] = "Changed at the source."
    path.write_text(json.dumps(services), "utf-8")
    for moved in ([SERVICE], []):
        with session_scope(seeded_url) as session:
            report = run_import(session, read(tmp_path), load_mapping("awhina"))
            assert report.curated == moved
            curation.imported(session, report.curated, "Test source", NOW)
    form = curation.check(SERVICE, _form(description="Typed before the import."), PHONES)
    with session_scope(seeded_url) as session:
        assert curation.version_of(session, SERVICE) == seen + 1
        with pytest.raises(curation.Stale) as raised:
            curation.save(session, SERVICE, form, WHO, NOW, seen)
    (change,) = raised.value.since
    assert change.navigator_name == "Import: Test source" and change.action == "import"
    assert change.changed["description"][1] == "Changed at the source."
    with session_scope(seeded_url) as session:
        assert curation.facts_of(session, SERVICE).description == "Changed at the source."
