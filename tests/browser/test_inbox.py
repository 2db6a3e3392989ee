"""The navigators' inbox in Chromium (Playwright) against the real stack.

A navigator signs in, sees a chat handoff arrive in the open request list without
reloading, claims it, joins the conversation, replies, sees the person's answer
arrive live and hands back to Āwhina. The pages fit a 360 px phone and pass axe;
a form posted without the CSRF token (with the session cookie) changes nothing.

The stack comes through ``widget_site``, not ``stack``: this module runs before the
widget tests, and Rasa must start with the widget's allowed origins.
"""

from __future__ import annotations

import re
import uuid

import pytest
import requests
from playwright.sync_api import Page, expect
from sqlalchemy import select

from bot.db import session_scope
from bot.directory.models import Organization
from bot.handoff.models import HandoffRequest, Navigator
from tests.browser.conftest import TOKEN, Browsing, WidgetSite, open_context, serious_violations
from tests.e2e.conftest import NAVIGATOR_EMAIL, NAVIGATOR_PASSWORD, Stack

pytestmark = pytest.mark.e2e

# A chat handoff that the Grey team (the test navigator's) receives.
HANDOFF = (
    "my daughter is using meth, we're in Greymouth",
    "can i talk to someone",
    "yes",
    "Aroha",
    "keep chatting here",
    "for me",
    "yes",
)
LIVE = 15_000  # ms: live updates poll every 0.5 s in the stack; this allows a busy machine
NOTHING_CHANGED = "This form had expired or did not come from the inbox. Nothing changed."


def ask_for_a_navigator(stack: Stack) -> tuple[str, str]:
    """Has a person ask for a navigator over REST; returns (conversation id, request id).

    The stack runs no escalation worker (escalation has its own tests), so the request
    stays with the team it was routed to whatever the time of day.
    """
    sender = uuid.uuid4().hex
    for message in HANDOFF:
        stack.texts(sender, message)
    with session_scope(stack.db_url) as session:
        [request] = session.execute(
            select(HandoffRequest).where(HandoffRequest.conversation_id == sender)
        ).scalars()
        assert request.team_id == "grey-navigators" and request.contact_method == "chat"
        return sender, request.id


def status_of(stack: Stack, request_id: str) -> tuple[str, str | None]:
    with session_scope(stack.db_url) as session:
        request = session.get(HandoffRequest, request_id)
        return request.status, request.claimed_by


def organisation_name(stack: Stack) -> str:
    with session_scope(stack.db_url) as session:
        navigator = session.execute(
            select(Navigator).where(Navigator.email == NAVIGATOR_EMAIL)
        ).scalar_one()
        return session.get(Organization, navigator.organization_id).name


def bot_texts(stack: Stack, sender: str) -> list[str]:
    """What the bot said in the conversation, from Rasa's tracker."""
    tracker = requests.get(
        f"{stack.rasa_url}/conversations/{sender}/tracker", params={"token": TOKEN}, timeout=30
    )
    tracker.raise_for_status()
    return [e.get("text") or "" for e in tracker.json()["events"] if e.get("event") == "bot"]


def submit_sign_in(page: Page, inbox: str, password: str) -> int:
    """Fills in the login form and sends it; returns the status of the POST's answer."""
    page.get_by_label("Email").fill(NAVIGATOR_EMAIL)
    page.get_by_label("Password").fill(password)
    with page.expect_response(
        lambda r: r.url == f"{inbox}/login" and r.request.method == "POST"
    ) as answer:
        page.get_by_role("button", name="Sign in").click()
    return answer.value.status


def sign_in(page: Page, inbox: str) -> None:
    page.goto(f"{inbox}/login")
    assert submit_sign_in(page, inbox, NAVIGATOR_PASSWORD) == 303
    expect(page).to_have_url(f"{inbox}/requests")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Requests for "))


def open_list(page: Page, inbox: str) -> None:
    """Opens the request list and waits until its live stream is connected."""
    with page.expect_response(lambda r: r.url == f"{inbox}/live"):
        page.goto(f"{inbox}/requests")


def flash(page: Page, text: str) -> None:
    expect(page.locator(".flash-ok[role=status]", has_text=text)).to_be_visible()


def summary_value(page: Page, term: str):
    return page.locator(".summary dt", has_text=term).locator("xpath=following-sibling::dd[1]")


def mark_page(page: Page) -> None:
    """A flag that only survives as long as the page is not reloaded or left."""
    page.evaluate("window.stillThisPage = true")


def assert_same_page(page: Page) -> None:
    assert page.evaluate("window.stillThisPage === true"), "the page was reloaded"


def test_sign_in_see_a_request_arrive_claim_chat_and_hand_back(
    browsing: Browsing, widget_site: WidgetSite
):
    stack, page = widget_site.stack, browsing.page
    inbox = stack.inbox_url

    # Signing in: a wrong password is refused clearly and opens no session.
    page.goto(f"{inbox}/requests")
    expect(page).to_have_url(re.compile(re.escape(f"{inbox}/login?next=")))
    assert submit_sign_in(page, inbox, "not the password") == 401
    expect(page.get_by_role("alert")).to_have_text(
        "That email and password do not match an account."
    )
    expect(page.get_by_label("Email")).to_have_value(NAVIGATOR_EMAIL)
    expect(page.get_by_label("Password")).to_have_value("")
    assert "inbox_session" not in {c["name"] for c in browsing.context.cookies()}
    assert submit_sign_in(page, inbox, NAVIGATOR_PASSWORD) == 303
    expect(page).to_have_url(f"{inbox}/requests")  # back where the sign-in started
    assert "inbox_session" in {c["name"] for c in browsing.context.cookies()}
    signed_in = len(browsing.console)  # the refused sign-in logged its 401 before this

    # A new request appears in the open list by itself, with a visible cue.
    open_list(page, inbox)
    mark_page(page)
    sender, request_id = ask_for_a_navigator(stack)
    card = page.locator(f'#groups .group-new li.card[data-id="{request_id}"]')
    expect(card).to_be_visible(timeout=LIVE)
    expect(card).to_have_class(re.compile(r"\bcard-new-arrival\b"))
    expect(card).to_contain_text("Alcohol and other drugs")
    expect(card).to_contain_text("Greymouth")
    expect(card).to_contain_text("Keep chatting in Āwhina")
    banner = page.locator("#live-banner")
    expect(banner).to_be_visible()
    expect(banner).to_have_text("New request")
    expect(page).to_have_title(re.compile(r"^\(\d+\) Requests"))
    assert_same_page(page)

    # The request: the summary and what the person said.
    card.get_by_role("link").click()
    expect(page).to_have_url(f"{inbox}/requests/{request_id}")
    expect(summary_value(page, "What to call them")).to_have_text("Aroha")
    expect(summary_value(page, "How to contact them")).to_have_text("Keep chatting in Āwhina")
    expect(summary_value(page, "Area")).to_contain_text("Greymouth")
    said = page.locator("#transcript .turn-user p")
    expect(said.filter(has_text=re.compile(r"^Aroha$"))).to_have_count(1)
    expect(said.filter(has_text="my daughter is using meth")).to_have_count(1)
    expect(page.locator("#transcript .turn-bot").first).to_be_visible()
    expect(page.locator("p.status")).to_contain_text("Status: New")

    # Claim: the person is told who has their request.
    organisation = organisation_name(stack)
    page.get_by_role("button", name="Claim").click()
    flash(page, "You hold this request now.")
    expect(page.locator("p.status")).to_contain_text("Claimed · held by you")
    assert f"Mere from {organisation} has your request and will be in touch." in bot_texts(
        stack, sender
    )
    assert status_of(stack, request_id)[0] == "claimed"

    # Join the conversation, then reply in the chat box.
    page.get_by_role("button", name="Join the conversation").click()
    flash(page, "You joined the conversation")
    joined = f"Mere from {organisation} has joined the chat. You're talking with a person now."
    assert joined in bot_texts(stack, sender)
    reply = f"Kia ora Aroha, it's Mere. ({uuid.uuid4().hex[:6]})"
    page.get_by_label("Your message").fill(reply)
    page.get_by_role("button", name="Send", exact=True).click()
    flash(page, "Message sent.")
    assert bot_texts(stack, sender).count(f"Mere: {reply}") == 1
    expect(page.locator("#transcript .turn-bot p", has_text=f"Mere: {reply}")).to_have_count(1)

    # The person answers: the bot stays quiet and the answer shows up on the open page.
    mark_page(page)
    answer = f"thank you Mere, she's home now ({uuid.uuid4().hex[:6]})"
    assert stack.chat(sender, answer) == []
    expect(said.filter(has_text=answer)).to_have_count(1, timeout=LIVE)
    expect(page.locator("#transcript .turn-user").last).to_contain_text(answer)
    expect(banner).to_have_text("New message from the person")
    assert_same_page(page)

    # Hand back: the person is told and the bot answers again.
    page.get_by_role("button", name="Hand back to Āwhina").click()
    flash(page, "Handed back to Āwhina.")
    assert any("You're back with Āwhina" in t for t in bot_texts(stack, sender))
    expect(page.get_by_role("button", name="Join the conversation")).to_be_visible()
    assert stack.texts(sender, "kia ora").strip(), "the bot is still quiet after the hand back"
    # No script error, refused resource or Content-Security-Policy violation since signing in.
    errors = [line for line in browsing.console[signed_in:] if line.startswith("error:")]
    assert not errors, errors


def no_horizontal_scroll(page: Page) -> None:
    sizes = page.evaluate(
        "() => ({page: document.documentElement.scrollWidth, view: window.innerWidth})"
    )
    assert sizes["page"] <= sizes["view"], f"{page.url} scrolls sideways: {sizes}"


def test_fits_a_phone_and_passes_axe(browser, widget_site: WidgetSite):
    stack = widget_site.stack
    inbox = stack.inbox_url
    # axe is injected into the page, which the inbox's Content-Security-Policy would refuse.
    session = open_context(
        browser,
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
        bypass_csp=True,
    )
    try:
        page = session.page
        page.goto(f"{inbox}/login")
        no_horizontal_scroll(page)
        assert serious_violations(page) == []
        sign_in(page, inbox)
        sender, request_id = ask_for_a_navigator(stack)
        page.goto(f"{inbox}/requests")
        expect(page.locator(f'li.card[data-id="{request_id}"]')).to_be_visible()
        no_horizontal_scroll(page)
        assert serious_violations(page) == []

        page.goto(f"{inbox}/requests/{request_id}")
        expect(summary_value(page, "What to call them")).to_have_text("Aroha")
        no_horizontal_scroll(page)
        assert serious_violations(page) == []

        page.get_by_role("button", name="Claim").click()
        flash(page, "You hold this request now.")
        page.get_by_role("button", name="Join the conversation").click()
        flash(page, "You joined the conversation")
        box = page.get_by_label("Your message")
        box.fill("Kia ora Aroha " + "x" * 200)  # a long word must not widen the page
        page.get_by_role("button", name="Send", exact=True).click()
        flash(page, "Message sent.")
        no_horizontal_scroll(page)
        for control in (box, page.get_by_role("button", name="Send", exact=True)):
            found = control.bounding_box()
            assert found["x"] >= 0 and found["x"] + found["width"] <= 360, found
        assert serious_violations(page) == []
        page.get_by_role("button", name="Hand back to Āwhina").click()
        flash(page, "Handed back to Āwhina.")
    finally:
        session.context.close()
    assert not session.off_machine, session.off_machine
    assert any("back with Āwhina" in t for t in bot_texts(stack, sender))


def test_a_form_without_the_csrf_token_changes_nothing(browsing: Browsing, widget_site: WidgetSite):
    stack, page = widget_site.stack, browsing.page
    inbox = stack.inbox_url
    sign_in(page, inbox)
    _, request_id = ask_for_a_navigator(stack)
    page.goto(f"{inbox}/requests/{request_id}")
    page.get_by_role("button", name="Claim").click()
    flash(page, "You hold this request now.")
    held = status_of(stack, request_id)
    assert held[0] == "claimed" and held[1]
    close_url = f"{inbox}/requests/{request_id}/close"
    token = page.locator("form.close-form input[name=csrf_token]").get_attribute("value")
    assert token

    # The browser's own cookie jar (the session) goes with these posts; the token does not.
    for form in ({}, {"csrf_token": ""}, {"csrf_token": token[::-1]}):
        refused = page.request.post(
            close_url, form={"outcome": "connected", **form}, max_redirects=0
        )
        assert refused.status == 403, (form, refused.status)  # 401 would mean no session
        assert NOTHING_CHANGED in refused.text()
        assert status_of(stack, request_id) == held
    refused = page.request.post(f"{inbox}/logout", form={}, max_redirects=0)
    assert refused.status == 403
    assert page.request.get(f"{inbox}/requests", max_redirects=0).status == 200  # still in

    # A form on another origin of the same site (the cookie is SameSite, so it is sent).
    page.goto(f"{widget_site.partner}/")
    with page.expect_navigation() as navigation:
        page.evaluate(
            """(action) => {
            const form = document.createElement('form');
            form.method = 'post';
            form.action = action;
            const outcome = document.createElement('input');
            outcome.name = 'outcome';
            outcome.value = 'connected';
            form.append(outcome);
            document.body.append(form);
            form.submit();
        }""",
            close_url,
        )
    assert navigation.value.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text(NOTHING_CHANGED)
    assert status_of(stack, request_id) == held
    page.goto(f"{inbox}/requests/{request_id}")
    expect(page.locator("p.status")).to_contain_text("Claimed · held by you")

    # The same post with the page's token works: the refusals above were the token's doing.
    accepted = page.request.post(
        close_url, form={"outcome": "connected", "csrf_token": token}, max_redirects=0
    )
    assert accepted.status == 303, accepted.status
    assert status_of(stack, request_id)[0] == "closed"
