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
PASSWORD = "e2e coordinator password"
QUESTION = "what's the number for Buller Health?"


@pytest.fixture
def coordinator(stack: Stack) -> Iterator[str]:
    """A coordinator on the stack's database; the record is put back as it was after the test."""
    with session_scope(stack.db_url) as session:
        if accounts.find_by_email(session, EMAIL) is None:
            accounts.create_navigator(
                session, EMAIL, "Kahu", "grey-navigators", PASSWORD, role="coordinator"
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
        page.get_by_role("link", name="Buller Health").click()
        expect(page.get_by_role("heading", name="Buller Health")).to_be_visible()

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
