"""The read-only HSDS API on the web app: every response validated against the official
HSDS 3.0 schemas (the compiled objects, the table schemas and the OpenAPI Page)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator

from bot.directory.hsds.ids import hsds_id
from tests.hsds.schemas import SCHEMAS, errors
from tests.web.conftest import FakeRasa, run

HEALTHLINE = hsds_id("service", "healthline")
NEED = hsds_id("taxonomy", "need")
CRISIS = hsds_id("taxonomy_term", "need:crisis")


@pytest.fixture
def api(seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    return seeded_url


def _page_errors(page: dict[str, Any], item_schema: str) -> list[str]:
    openapi = json.loads((SCHEMAS / "openapi.json").read_text(encoding="utf-8"))
    found = [
        e.message
        for e in Draft202012Validator(openapi["components"]["schemas"]["Page"]).iter_errors(page)
    ]
    for item in page["contents"]:
        found += errors(item_schema, item)
    return found


def _get_all(paths: list[str]) -> dict[str, tuple[int, Any]]:
    answers: dict[str, tuple[int, Any]] = {}

    async def check(client: TestClient, _: FakeRasa) -> None:
        for path in paths:
            response = await client.get(path)
            answers[path] = (response.status, await response.json())

    run(check)
    return answers


def test_lists_are_valid_pages_of_hsds_records(api: str) -> None:
    answers = _get_all(
        [
            "/api/hsds/services",
            "/api/hsds/services?full=true&per_page=5",
            "/api/hsds/organizations",
            "/api/hsds/organizations?full=true&full_service=true&per_page=3",
            "/api/hsds/taxonomies",
            "/api/hsds/taxonomy_terms",
            "/api/hsds/service_at_locations?full=true",
        ]
    )
    for path, schema in (
        ("/api/hsds/services", "service"),
        ("/api/hsds/services?full=true&per_page=5", "compiled-service"),
        ("/api/hsds/organizations", "organization"),
        ("/api/hsds/organizations?full=true&full_service=true&per_page=3", "compiled-organization"),
        ("/api/hsds/taxonomies", "taxonomy"),
        ("/api/hsds/taxonomy_terms", "taxonomy_term"),
        ("/api/hsds/service_at_locations?full=true", "service_at_location"),
    ):
        status, page = answers[path]
        assert status == 200, path
        assert page["contents"], path
        assert _page_errors(page, schema) == [], path
    services = answers["/api/hsds/services"][1]
    assert services["total_items"] > 30 and services["size"] == len(services["contents"])
    assert answers["/api/hsds/service_at_locations?full=true"][1]["contents"][0]["location"]


def test_a_service_and_an_organization_by_id(api: str) -> None:
    org = hsds_id("organization", "healthline")
    answers = _get_all([f"/api/hsds/services/{HEALTHLINE}", f"/api/hsds/organizations/{org}"])
    status, service = answers[f"/api/hsds/services/{HEALTHLINE}"]
    assert status == 200 and service["name"] == "Healthline"
    assert errors("compiled-service", service) == []
    assert {p["number"] for p in service["phones"]}
    status, organization = answers[f"/api/hsds/organizations/{org}"]
    assert status == 200 and HEALTHLINE in {s["id"] for s in organization["services"]}
    assert errors("compiled-organization", organization) == []


def test_single_records_and_the_api_description(api: str) -> None:
    sals = _get_all(["/api/hsds/service_at_locations"])["/api/hsds/service_at_locations"][1]
    sal = sals["contents"][0]["id"]
    paths = [
        f"/api/hsds/taxonomies/{NEED}",
        f"/api/hsds/taxonomy_terms/{CRISIS}",
        f"/api/hsds/service_at_locations/{sal}",
        "/api/hsds/",
        "/api/hsds/taxonomy_terms/nothing",
    ]
    answers = _get_all(paths)
    assert answers[paths[0]][0] == 200 and errors("taxonomy", answers[paths[0]][1]) == []
    assert answers[paths[1]][1]["code"] == "crisis"
    assert errors("taxonomy_term", answers[paths[1]][1]) == []
    status, found = answers[paths[2]]
    assert status == 200 and found["location"] and errors("service_at_location", found) == []
    assert answers[paths[3]][1]["version"] == "3.0"
    assert answers[paths[4]][0] == 404


def test_paging_and_filters(api: str) -> None:
    answers = _get_all(
        [
            "/api/hsds/services?per_page=10&page=2",
            "/api/hsds/services?per_page=10&page=99",
            f"/api/hsds/services?taxonomy_term_id={CRISIS}",
            "/api/hsds/services?search=healthline",
            f"/api/hsds/taxonomy_terms?taxonomy_id={NEED}&top_only=true",
            "/api/hsds/services?minimal=true",
        ]
    )
    page = answers["/api/hsds/services?per_page=10&page=2"][1]
    assert (page["page_number"], page["size"], page["first_page"]) == (2, 10, False)
    beyond = answers["/api/hsds/services?per_page=10&page=99"][1]
    assert beyond["empty"] and beyond["last_page"] and beyond["contents"] == []
    crisis = answers[f"/api/hsds/services?taxonomy_term_id={CRISIS}"][1]["contents"]
    assert crisis and hsds_id("service", "emergency-111") in {s["id"] for s in crisis}
    assert HEALTHLINE not in {s["id"] for s in crisis}
    found = answers["/api/hsds/services?search=healthline"][1]["contents"]
    assert [s["name"] for s in found] == ["Healthline"]
    needs = answers[f"/api/hsds/taxonomy_terms?taxonomy_id={NEED}&top_only=true"][1]
    assert needs["contents"] and {t["taxonomy_id"] for t in needs["contents"]} == {NEED}
    minimal = answers["/api/hsds/services?minimal=true"][1]["contents"]
    assert all(set(s) <= {"id", "last_modified"} for s in minimal)


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/hsds/services?page=0", "page"),
        ("/api/hsds/services?per_page=lots", "per_page"),
        ("/api/hsds/services?per_page=100000", "per_page"),
        ("/api/hsds/services?full=maybe", "full"),
        ("/api/hsds/services?modified_after=yesterday", "modified_after"),
        ("/api/hsds/services?format=ndjson", "format"),
        ("/api/hsds/services?colour=blue", "colour"),
        ("/api/hsds/taxonomy_terms?top_only=1", "top_only"),
        ("/api/hsds/service_at_locations?proximity=500", "proximity"),
    ],
)
def test_bad_parameters_get_a_clear_400(api: str, path: str, parameter: str) -> None:
    status, body = _get_all([path])[path]
    assert status == 400
    assert body["error"] == "bad_parameter" and body["parameter"] == parameter
    assert parameter in body["message"]


def test_an_unknown_id_is_404(api: str) -> None:
    paths = ["/api/hsds/services/healthline", f"/api/hsds/organizations/{HEALTHLINE}"]
    answers = _get_all(paths)
    for path in paths:
        status, body = answers[path]
        assert status == 404 and body["error"] == "not_found"
