"""bot/directory/curation.py on SQLite and PostgreSQL: migration 0013 goes down and up, an
edit is checked, saved, logged and reaches the search, and the work lists find services."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from alembic import command
from sqlalchemy import inspect, select

from bot.db import get_engine, session_scope
from bot.directory import curation, present, query
from bot.migrate import alembic_config

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)
WHO = ("nav-1", "Mere")
SERVICE = "te-nikau-hospital"


def test_the_audit_table_goes_down_and_up_again(db_url: str) -> None:
    config = alembic_config(db_url)
    command.downgrade(config, "0012")
    get_engine(db_url).dispose()
    assert "curation_change" not in inspect(get_engine(db_url)).get_table_names()
    command.upgrade(config, "head")
    get_engine(db_url).dispose()
    assert "curation_change" in inspect(get_engine(db_url)).get_table_names()


def _form(**changes: str) -> dict[str, str]:
    return {
        "name": "Te Nikau Hospital and Health Centre",
        "description": "Greymouth's hospital.",
        "phones": "03-768 0499 ext 2\n+61 2 9999 9999",
        "email": "",
        "website": "",
        "hours_text": "Outpatients by appointment",
        "kaupapa_maori": "yes",
        "free": "",
        **changes,
    }


def test_an_edit_is_saved_logged_and_searched(seeded_url: str) -> None:
    facts = curation.check(SERVICE, _form())
    assert facts.phones == ("03 768 0499 ext 2", "+61299999999")
    with session_scope(seeded_url) as session:
        assert curation.save(session, SERVICE, facts, WHO, NOW)
    with session_scope(seeded_url) as session:
        assert not curation.save(session, SERVICE, facts, WHO, NOW)  # nothing changed
        found = query.search(
            session, query.ServiceQuery(need="health", place="greymouth", kaupapa_maori=True)
        )
        assert not found.relaxed and SERVICE in found.ids
        (view,) = query.get_services(session, [SERVICE])
        assert view.name == "Te Nikau Hospital and Health Centre" and view.kaupapa_maori
        assert [p.number for p in view.phones] == ["03 768 0499", "+61299999999"]
        assert "Hours: Outpatients by appointment" in present.detail(view, NOW)
        (change,) = curation.changes(session, SERVICE)
        assert change.navigator_name == "Mere" and change.action == "edit"
        assert change.changed["kaupapa_maori"] == (False, True)
        assert "email" not in change.changed
        rows = session.scalars(select(curation.CurationChange)).all()
        assert len(rows) == 1


def test_bad_facts_name_every_field(seeded_url: str) -> None:
    with pytest.raises(curation.Invalid) as raised:
        curation.check(SERVICE, _form(name=" ", phones="ring us", email="nope", free="perhaps"))
    assert set(raised.value.problems) == {"name", "phones", "email", "free"}


def test_the_lists(seeded_url: str) -> None:
    with session_scope(seeded_url) as session:
        never = {s.id for s in curation.services(session, date(2026, 6, 1), queue="never")}
        bare = {s.id for s in curation.services(session, date(2026, 6, 1), queue="no_contact")}
        buller = {s.id for s in curation.services(session, date(2026, 6, 1), district="buller")}
        curation.verify(session, SERVICE, WHO, NOW)
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
        curation.check(SERVICE, _form(website=website))
    assert set(raised.value.problems) == {"website"}
    assert curation.check(SERVICE, _form(website="https://www.westcoastdhb.org.nz/"))
