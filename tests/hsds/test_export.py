"""The export is valid HSDS 3.0 (checked against the official schemas), with stable
UUIDs and our facts in HSDS fields and attributes."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from bot.db import session_scope
from bot.directory.hsds.export import export
from bot.directory.hsds.ids import hsds_id
from bot.directory.hsds.tables import facts
from tests.hsds.schemas import csv_errors, errors


@pytest.fixture
def exported(seeded_url: str, tmp_path: Path) -> Path:
    with session_scope(seeded_url) as session:
        export(session, "json", tmp_path / "json")
        export(session, "csv", tmp_path / "csv")
    return tmp_path


def test_json_export_is_valid_hsds(exported: Path) -> None:
    services = json.loads((exported / "json" / "services.json").read_text(encoding="utf-8"))
    organizations = json.loads((exported / "json" / "organizations.json").read_text("utf-8"))
    terms = json.loads((exported / "json" / "taxonomy_terms.json").read_text("utf-8"))
    assert len(services) > 30 and organizations and terms
    for service in services:
        assert errors("compiled-service", service) == [], service["name"]
    for organization in organizations:
        assert errors("compiled-organization", organization) == [], organization["name"]
    for term in terms:
        assert errors("taxonomy_term", term) == []
    for taxonomy in json.loads((exported / "json" / "taxonomies.json").read_text("utf-8")):
        assert errors("taxonomy", taxonomy) == []


def test_csv_export_is_valid_hsds(exported: Path) -> None:
    assert csv_errors(exported / "csv") == []


def test_the_validator_rejects_what_hsds_does(exported: Path) -> None:
    service = json.loads((exported / "json" / "services.json").read_text("utf-8"))[0]
    broken = {**service, "id": "healthline", "status": "open", "email": "nobody"}
    assert {e.split(":")[0] for e in errors("compiled-service", broken)} == {
        "id",
        "status",
        "email",
    }


def test_ids_are_stable_uuids_of_our_slugs(exported: Path) -> None:
    services = json.loads((exported / "json" / "services.json").read_text("utf-8"))
    by_id = {s["id"]: s for s in services}
    healthline = by_id[hsds_id("service", "healthline")]
    assert healthline["name"] == "Healthline"
    assert uuid.UUID(healthline["id"]).version == 5
    # Fixed for good: partners and stored slots hold this id.
    assert healthline["id"] == "bc2412b2-39e0-56af-84a6-62aceb417f55"
    assert hsds_id("service", "healthline") != hsds_id("organization", "healthline")
    assert hsds_id("service", healthline["id"]) == healthline["id"]


def test_our_facts_travel_in_hsds_fields_and_attributes(exported: Path) -> None:
    services = json.loads((exported / "json" / "services.json").read_text("utf-8"))
    f = facts()
    kaupapa = [
        s
        for s in services
        if any(a["taxonomy_term_id"] == f.term_id("kaupapa_maori") for a in s["attributes"])
    ]
    assert kaupapa, "no service exported as kaupapa Māori"
    for s in services:
        sources = [a for a in s["attributes"] if a["taxonomy_term_id"] == f.term_id("source")]
        assert len(sources) == 1 and sources[0]["value"]
        assert {a["taxonomy_term"]["code"] for a in s["attributes"] if a["link_type"] == "need"}
    free = [s for s in services if any(c.get("amount") == 0 for c in s["cost_options"])]
    assert free and all(c["currency"] == "NZD" for s in free for c in s["cost_options"])
    assert any("assured_date" in s for s in services)
