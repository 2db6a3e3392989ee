"""The HSDS API reads only what it returns (issue 12): its answers are those the whole
directory gives (``objects.Directory`` over every record, as the JSON export builds
it), and a page or a record by id loads the records of that page alone."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select

from bench.directory import build, scratch_database
from bot.db import session_scope
from bot.directory import models as dm
from bot.directory.hsds.ids import hsds_id
from bot.directory.hsds.objects import Directory
from bot.directory.hsds.tables import Row, facts, tables
from tests.hsds.test_api import _get_all

NEED = hsds_id("taxonomy", "need")
CRISIS = hsds_id("taxonomy_term", "need:crisis")


@pytest.fixture
def whole(seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> Directory:
    """The API on the seed, and the seed as one Directory of every record."""
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    with session_scope(seeded_url) as session:
        return Directory(tables(session))


def _terms(whole: Directory, service: Row) -> list[Row]:
    return [
        whole.get("taxonomy_term", a["taxonomy_term_id"]) or {}
        for a in whole.linked("attribute", "link_id", service["id"])
    ]


def test_records_by_id_are_the_whole_directorys(whole: Directory) -> None:
    services = [s["id"] for s in whole.tables["service"]]
    organizations = [o["id"] for o in whole.tables["organization"]]
    sals = [s["id"] for s in whole.tables["service_at_location"]]
    assert services and organizations and sals
    paths = {
        **{f"/api/hsds/services/{i}": whole.service(i) for i in services},
        **{
            f"/api/hsds/organizations/{i}?full_service=true": whole.organization(i, True)
            for i in organizations
        },
        **{f"/api/hsds/organizations/{i}": whole.organization(i) for i in organizations[:5]},
        **{f"/api/hsds/service_at_locations/{i}": whole.service_at_location(i) for i in sals},
    }
    answers = _get_all(list(paths))
    for path, expected in paths.items():
        assert answers[path] == (200, expected), path


def test_pages_are_the_whole_directorys(whole: Directory) -> None:
    services = whole.tables["service"]
    organization = services[0]["organization_id"]
    fact_taxonomy = hsds_id("taxonomy", facts().taxonomy_id)
    kaupapa = facts().term_id("kaupapa_maori")

    def having(keep: Any) -> list[Row]:
        return [s for s in services if keep(s)]

    expected: dict[str, list[Any]] = {
        "/api/hsds/services?per_page=1000": services,
        "/api/hsds/services?per_page=1000&full=true": [whole.service(s["id"]) for s in services],
        "/api/hsds/services?per_page=7&page=2": services[7:14],
        f"/api/hsds/services?per_page=1000&taxonomy_term_id={CRISIS}": having(
            lambda s: any(t.get("id") == CRISIS for t in _terms(whole, s))
        ),
        f"/api/hsds/services?per_page=1000&taxonomy_term_id={kaupapa}": having(
            lambda s: any(t.get("id") == kaupapa for t in _terms(whole, s))
        ),
        f"/api/hsds/services?per_page=1000&taxonomy_id={NEED}": having(
            lambda s: any(t.get("taxonomy_id") == NEED for t in _terms(whole, s))
        ),
        f"/api/hsds/services?per_page=1000&taxonomy_id={fact_taxonomy}": services,
        f"/api/hsds/services?per_page=1000&organization_id={organization}": having(
            lambda s: s["organization_id"] == organization
        ),
        "/api/hsds/services?per_page=1000&search=Support%20line": having(
            lambda s: all(
                word
                in " ".join(
                    s.get(f, "") for f in ("name", "alternate_name", "description")
                ).casefold()
                for word in ("support", "line")
            )
        ),
        "/api/hsds/organizations?per_page=1000&full=true&full_service=true": [
            whole.organization(o["id"], True) for o in whole.tables["organization"]
        ],
        "/api/hsds/service_at_locations?per_page=1000&full=true": [
            whole.service_at_location(s["id"]) for s in whole.tables["service_at_location"]
        ],
    }
    assert all(expected.values())
    answers = _get_all(list(expected))
    for path, contents in expected.items():
        status, page = answers[path]
        assert status == 200 and page["contents"] == contents, path
        if "per_page=1000" in path:
            assert page["total_items"] == len(contents), path
    assert answers["/api/hsds/services?per_page=7&page=2"][1]["total_items"] == len(services)
    assert (
        0
        < len(
            answers[f"/api/hsds/services?per_page=1000&taxonomy_term_id={kaupapa}"][1]["contents"]
        )
        < len(services)
    )


SERVICES = 300


@pytest.fixture
def generated(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with scratch_database("sqlite") as url:
        build(url, SERVICES, random.Random(3))
        monkeypatch.setenv("DATABASE_URL", url)
        yield url


def test_a_page_loads_only_its_services(generated: str) -> None:
    loaded: list[str] = []

    def count(target: Any, _: Any) -> None:
        loaded.append(target.id)

    some = hsds_id("service", "gen-123")
    paths = [
        "/api/hsds/services?per_page=10&page=3",
        "/api/hsds/services?per_page=10&page=3&full=true",
        "/api/hsds/services?per_page=10&minimal=true",
        f"/api/hsds/services/{some}",
        "/api/hsds/organizations?per_page=4&full=true&full_service=true",
        f"/api/hsds/organizations/{hsds_id('organization', 'gen-org-7')}",
        "/api/hsds/service_at_locations?per_page=10&full=true",
    ]
    event.listen(dm.Service, "load", count)
    try:
        answers = {}
        for path in paths:
            before = len(loaded)
            answers[path] = _get_all([path])[path]
            assert len(loaded) - before <= 20, path  # of 300 services
    finally:
        event.remove(dm.Service, "load", count)
    page = answers["/api/hsds/services?per_page=10&page=3&full=true"][1]
    assert page["total_items"] == SERVICES and page["size"] == 10
    assert [s["id"] for s in page["contents"]] == [
        s["id"] for s in answers["/api/hsds/services?per_page=10&page=3"][1]["contents"]
    ]
    assert answers[f"/api/hsds/services/{some}"][1]["name"] == "Generated service 123"
    organizations = answers["/api/hsds/organizations?per_page=4&full=true&full_service=true"][1]
    assert [len(o["services"]) for o in organizations["contents"]] == [5, 5, 5, 5]


def _found_ids(paths: list[str]) -> dict[str, list[str]]:
    """The ids of the services each search path answers with, each answer a 200."""
    answers = _get_all(paths)
    for path, (status, _) in answers.items():
        assert status == 200, path
    return {path: [s["id"] for s in page["contents"]] for path, (_, page) in answers.items()}


def _first_service_renamed(url: str, name: str) -> str:
    """Names the directory's first service ``name``; its HSDS id."""
    with session_scope(url) as session:
        service = session.scalars(select(dm.Service).order_by(dm.Service.id)).first()
        service.name = name
        return hsds_id("service", service.id)


def test_search_is_case_blind_beyond_ascii(
    seeded_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "ŌTAUTAHI" is found as "ōtautahi" and the other way round, on SQLite too (whose
    ``lower()`` folds only ASCII letters)."""
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    wanted = _first_service_renamed(seeded_url, "ŌTAUTAHI WHĀNAU SUPPORT")
    paths = [
        "/api/hsds/services?search=ōtautahi%20whānau",
        "/api/hsds/services?search=Ōtautahi",
        "/api/hsds/services?search=ŌTAUTAHI%20SUPPORT",
        "/api/hsds/services?search=otautahi",
    ]
    found = _found_ids(paths)
    for path in paths[:3]:
        assert found[path] == [wanted], path
    assert found[paths[3]] == []  # a macron is a letter of its own


def test_search_words_are_text_not_patterns(
    seeded_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "%" and "_" in a search are the characters themselves, not LIKE's wildcards."""
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    wanted = _first_service_renamed(seeded_url, "Kai_box 100% free")
    paths = [
        "/api/hsds/services?search=100%25",
        "/api/hsds/services?search=kai_box",
        "/api/hsds/services?search=%25",
        "/api/hsds/services?search=_",
        "/api/hsds/services?search=kai%25box",
    ]
    found = _found_ids(paths)
    for path in paths:
        assert found[path] == ([] if path.endswith("kai%25box") else [wanted]), path
