"""What the bot shows about a service is for people: nothing internal leaks into it."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from bot.config import NZ
from bot.db import session_scope
from bot.directory import present
from bot.directory.models import Organization, Service
from bot.directory.places import gazetteer
from bot.directory.query import ServiceView, get_services
from bot.directory.taxonomy import taxonomies

AT = datetime(2026, 12, 1, 10, 0, tzinfo=NZ)
FILE_PATH = re.compile(r"\.(md|ya?ml|py|json|csv)\b|\b(shared|data|docs|bot|tests|var)/")


def _everything_shown(view: ServiceView) -> list[str]:
    return [
        present.summary(view, 1, AT),
        present.detail(view, AT),
        present.open_now_line(view, AT),
        present.contact_answer(view),
        present.cost_answer(view),
        present.kaupapa_answer(view),
    ]


def _slugs(session) -> set[str]:
    """Ids, codes and keys a person would not recognise: the ones with '-' or '_'."""
    ids = set(session.execute(select(Service.id)).scalars())
    ids |= set(session.execute(select(Organization.id)).scalars())
    ids |= set(taxonomies().needs) | set(taxonomies().audiences) | set(gazetteer().places)
    return {i for i in ids if "-" in i or "_" in i}


def test_no_text_about_a_service_shows_a_file_path_or_an_internal_id(seeded_url):
    with session_scope(seeded_url) as session:
        views = get_services(session, list(session.execute(select(Service.id)).scalars()))
        slugs = _slugs(session)
    assert len(views) > 20 and "police-105" in slugs and "west-coast" in slugs
    for view in views:
        for text in _everything_shown(view):
            assert not FILE_PATH.search(text), f"{view.id}: a file path in {text!r}"
            shown = set(re.findall(r"[\w-]+", text.lower()))
            assert not shown & slugs, f"{view.id}: internal ids {shown & slugs} in {text!r}"


def test_the_source_line_names_the_publication_and_when_it_was_checked(seeded_url):
    with session_scope(seeded_url) as session:
        checked, unchecked = get_services(session, ["lifeline", "healthline"])
    assert "Source: nzfamilies.org.nz; vice.com (checked 25 Nov 2026)" in present.detail(checked)
    assert "Source: nzfamilies.org.nz, a secondary source (not yet checked)" in present.detail(
        unchecked
    )
