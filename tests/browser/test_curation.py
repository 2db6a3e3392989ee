"""The curation workspace in Chromium: a coordinator finds a local service without any
contact detail in its queue, is shown a bad phone number clearly, saves a good one, marks
the record verified, and the bot's answer (the action server's own query and wording,
read from the same database) carries the new number at once.

Only the inbox runs: what the bot says comes from ``bot.directory`` on every search.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from bot.db import session_scope
from bot.directory import present, query
from tests.browser.conftest import Browsing
from tests.browser.test_insights import LOGIN, _bot
from tests.e2e.conftest import free_port, start_bot, wait_for


@pytest.fixture(scope="module")
def curation_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str, str]]:
    """The inbox on a sample database: its URL, the coordinator's login and the database."""
    workdir = tmp_path_factory.mktemp("curation-site")
    database = f"sqlite:///{workdir / 'sample.db'}"
    env = {**os.environ, "DATABASE_URL": database}
    _bot(env, "directory", "load", "--quiet")
    email, password = LOGIN.search(_bot(env, "navigator", "demo")).groups()
    port = free_port()
    proc = start_bot("inbox", env, port, workdir / "inbox.log")
    try:
        wait_for(f"http://127.0.0.1:{port}/health", 60, [proc])
        yield f"http://127.0.0.1:{port}", email, password, database
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _bot_says(database: str) -> str:
    with session_scope(database) as session:
        (view,) = query.find_by_name(session, "how do I reach buller health")
        return present.contact_answer(view)


def test_a_coordinator_edits_a_record_and_the_bot_answers_with_it(
    browsing: Browsing, curation_site: tuple[str, str, str, str]
) -> None:
    url, email, password, database = curation_site
    assert "03 788 9030" not in _bot_says(database)
    page = browsing.page
    page.goto(f"{url}/curation?queue=no_contact")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', password)
    page.click('button[type="submit"]')
    expect(page).to_have_url(re.compile(re.escape(f"{url}/curation")))
    page.get_by_role("link", name="Buller Health").click()
    expect(page.get_by_role("heading", name="Buller Health")).to_be_visible()

    page.get_by_label("Phone numbers").fill("call the front desk")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Nothing was saved.")).to_be_visible()
    expect(page.get_by_text("is not a phone number")).to_be_visible()
    assert "03 788 9030" not in _bot_says(database)

    page.get_by_label("Phone numbers").fill("(03) 788 9030")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    page.get_by_role("button", name="Verified with the organisation today").click()
    expect(page.get_by_text("Recorded as verified with the organisation today.")).to_be_visible()
    expect(page.get_by_role("cell", name="03 788 9030")).to_be_visible()
    expect(page.get_by_text("Last verified with the organisation: never")).to_have_count(0)
    assert "03 788 9030" in _bot_says(database)
