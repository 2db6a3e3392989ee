"""The curation workspace and the live bot, both in Chromium, on the shared stack.

A coordinator signs in to the stack's inbox, finds a local service without any contact
detail in its queue, is shown a bad phone number clearly, saves a good number to call
and a mobile to text, and marks the record verified. Someone on the chat widget (a
second browser profile, talking to the real Rasa and action server over socket.io)
asks the bot for the service's number before and after: the answer changes, with no
restart. The record is put back afterwards, as the e2e tests share the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from bot import clock
from bot.db import session_scope
from bot.directory import curation
from bot.directory import models as dm
from bot.handoff import accounts
from tests.browser.conftest import Browsing, WidgetSite, open_context
from tests.browser.test_widget import bot_messages, open_widget, say
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

SERVICE = "buller-health"
EMAIL = "kahu@grey.example.org"
OTHER = "aroha@grey.example.org"
PASSWORD = "e2e coordinator password"
QUESTION = "what's the number for Buller Health?"


@pytest.fixture
def coordinator(stack: Stack) -> Iterator[str]:
    """A coordinator on the stack's database (and a second, ``OTHER``); the record is put
    back as it was after the test."""
    with session_scope(stack.db_url) as session:
        for email, name in ((EMAIL, "Kahu"), (OTHER, "Aroha")):
            if accounts.find_by_email(session, email) is None:
                accounts.create_navigator(
                    session, email, name, "grey-navigators", PASSWORD, role="coordinator"
                )
        original = curation.facts_of(session, SERVICE)
    yield EMAIL
    with session_scope(stack.db_url) as session:
        version = curation.version_of(session, SERVICE)
        teardown = curation.Curator("e2e", "e2e teardown", None)
        curation.save(session, SERVICE, original, teardown, clock.now(), version)
        service = session.get(dm.Service, SERVICE)
        service.last_verified, service.assurer_email = original.last_verified, None


def _sign_in(page: Page, inbox: str, email: str) -> None:
    page.goto(f"{inbox}/curation?queue=no_contact")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    expect(page).to_have_url(re.compile(re.escape(f"{inbox}/curation")))


def _open_record(page: Page) -> None:
    page.get_by_role("link", name="Buller Health").click()
    expect(page.get_by_role("heading", name="Buller Health")).to_be_visible()


def _bot_answer(page: Page) -> str:
    say(page, QUESTION)
    return bot_messages(page).last.inner_text()


def test_a_coordinator_edits_a_record_and_the_live_bot_answers_with_it(
    browser, browsing: Browsing, widget_site: WidgetSite, coordinator: str
) -> None:
    whanau = open_context(browser, viewport={"width": 1280, "height": 800})
    try:
        chat = whanau.page
        open_widget(chat, widget_site)
        before = _bot_answer(chat)
        assert "Buller Health" in before and "788 9030" not in before, before

        page = browsing.page
        _sign_in(page, widget_site.stack.inbox_url, coordinator)
        _open_record(page)

        page.get_by_label("Number 1", exact=True).fill("call the front desk")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Nothing was saved.")).to_be_visible()
        expect(page.get_by_text("is not a phone number")).to_be_visible()
        expect(page.get_by_label("Number 1", exact=True)).to_have_value("call the front desk")

        page.get_by_label("Number 1", exact=True).fill("(03) 788 9030")
        page.get_by_label("Number 2", exact=True).fill("021 555 0199")
        page.get_by_label("Kind of number 2", exact=True).select_option("text")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Saved.")).to_be_visible()
        expect(page.get_by_label("Kind of number 2", exact=True)).to_have_value("text")
        page.get_by_role("button", name="Verified with the organisation today").click()
        expect(
            page.get_by_text("Recorded as verified with the organisation today.")
        ).to_be_visible()
        logged = "03 788 9030 (Voice), 021 555 0199 (Text (SMS))"
        expect(page.get_by_role("cell", name=logged, exact=True)).to_be_visible()
        expect(page.get_by_text("Last verified with the organisation: never")).to_have_count(0)

        after = _bot_answer(chat)
        assert "Call 03 788 9030" in after and "Text 021 555 0199" in after, after
        assert "not yet checked" not in after, after  # verified just now
        assert not whanau.off_machine, whanau.off_machine
    finally:
        print("\n".join(whanau.console))
        whanau.context.close()


def test_two_coordinators_on_one_record_lose_nothing(
    browser, browsing: Browsing, stack: Stack, coordinator: str
) -> None:
    """Both open the record; Aroha saves first. Kahu's save is refused with Aroha's change
    shown and Kahu's number still in the form; saved again, both changes stand."""
    other = open_context(browser, viewport={"width": 1280, "height": 800})
    try:
        mine, theirs = browsing.page, other.page
        _sign_in(mine, stack.inbox_url, coordinator)
        _sign_in(theirs, stack.inbox_url, OTHER)
        _open_record(mine)
        _open_record(theirs)

        theirs.get_by_label("Description").fill("Hospital, GP and after-hours care in Westport.")
        theirs.get_by_role("button", name="Save").click()
        expect(theirs.get_by_text("Saved.")).to_be_visible()

        mine.get_by_label("Number 1", exact=True).fill("(03) 788 9030")
        mine.get_by_role("button", name="Save").click()
        expect(mine.get_by_text("someone else changed this record")).to_be_visible()
        stale = mine.locator("#stale")
        expect(stale.get_by_role("cell", name="Aroha", exact=True)).to_be_visible()
        expect(stale.get_by_role("cell", name="Description", exact=True)).to_be_visible()
        expect(mine.get_by_label("Number 1", exact=True)).to_have_value("(03) 788 9030")
        with session_scope(stack.db_url) as session:
            assert curation.facts_of(session, SERVICE).phones == ()

        mine.get_by_label("Description").fill("Hospital, GP and after-hours care in Westport.")
        mine.get_by_role("button", name="Save").click()
        expect(mine.get_by_text("Saved.")).to_be_visible()
        with session_scope(stack.db_url) as session:
            facts = curation.facts_of(session, SERVICE)
        assert facts.description == "Hospital, GP and after-hours care in Westport."
        assert [p.number for p in facts.phones] == ["03 788 9030"]
    finally:
        other.context.close()
