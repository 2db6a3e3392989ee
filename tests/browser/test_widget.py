"""The website chat widget in Chromium, against the real Rasa server, action server and web app.

Each test gets a fresh browser profile, so its own conversation (the id lives in
localStorage). Nothing may be fetched from off the machine (see ``browsing``).
"""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Locator, Page, Route, expect

from bot.db import session_scope
from bot.directory.query import ServiceQuery, search
from bot.replies import all_responses
from tests.browser.conftest import TOKEN, Browsing, WidgetSite, open_context, serious_violations
from tests.phone_numbers import NUMBER, directory_numbers

pytestmark = pytest.mark.e2e

LAUNCHER = "Chat with Āwhina"
SESSION_ID = re.compile(r"[0-9a-f]{32}")


def domain_text(response: str) -> str:
    return all_responses()[response][0]["text"]


def panel(page: Page):
    return page.get_by_role("dialog", name="Āwhina")


def conversation(page: Page):
    return page.get_by_role("list", name="Conversation")


def bot_messages(page: Page):
    return page.locator(".awhina-log .awhina-bot:not(.awhina-greeting)")


def user_messages(page: Page):
    return page.locator(".awhina-log .awhina-user")


def message_box(page: Page):
    return page.get_by_role("textbox", name="Your message")


def open_widget(page: Page, site: WidgetSite) -> None:
    page.goto(f"{site.url}/")
    page.get_by_role("button", name=LAUNCHER).click()
    expect(panel(page)).to_be_visible()
    expect(message_box(page)).to_be_focused()


def settle(page: Page, answered: int) -> None:
    """Waits for the bot's answer: more messages than ``answered``, then none for a second."""
    expect(bot_messages(page)).not_to_have_count(answered)
    page.wait_for_function(
        """() => new Promise((done) => {
            const log = document.querySelector('.awhina-log');
            let timer = setTimeout(finish, 1000);
            const watch = new MutationObserver(() => {
                clearTimeout(timer);
                timer = setTimeout(finish, 1000);
            });
            function finish() { watch.disconnect(); done(true); }
            watch.observe(log, {childList: true});
        })"""
    )


def say(page: Page, text: str) -> None:
    """Types a message and sends it, waiting until the bot has answered."""
    answered = bot_messages(page).count()
    message_box(page).fill(text)
    message_box(page).press("Enter")
    expect(user_messages(page).last).to_have_text(re.compile(re.escape(text)))
    settle(page, answered)


def session_id(page: Page) -> str:
    value = page.evaluate("localStorage.getItem('awhina.session')")
    assert value and SESSION_ID.fullmatch(value), value
    return value


def greeted(browsing: Browsing, site: WidgetSite) -> tuple[Page, str]:
    """The widget opened and "kia ora" answered: the page and its conversation's id."""
    page = browsing.page
    open_widget(page, site)
    say(page, "kia ora")
    return page, session_id(page)


def log_items(page: Page) -> list[str]:
    return [t.strip() for t in page.locator(".awhina-log > li").all_inner_texts()]


def test_service_question_history_and_button_reply(browsing: Browsing, widget_site: WidgetSite):
    page = browsing.page
    open_widget(page, widget_site)
    page.evaluate(
        """() => {
        const typing = document.querySelector('.awhina-typing');
        new MutationObserver(() => { if (!typing.hidden) window.sawTyping = true; })
            .observe(typing, {attributes: true});
    }"""
    )
    say(page, "my son is on meth in greymouth")
    assert page.evaluate("window.sawTyping === true"), "no typing indicator while waiting"

    with session_scope(widget_site.stack.db_url) as session:
        expected = search(session, ServiceQuery(need="drugs_alcohol", place="greymouth")).services
    assert expected, "the directory has nothing for drugs in Greymouth"
    for service in expected[:3]:
        expect(conversation(page)).to_contain_text(service.name)
    shown = "\n".join(log_items(page))
    numbers = directory_numbers(widget_site.stack.db_url)
    stated = [n for n in NUMBER.findall(shown) if not re.fullmatch(r"(19|20)\d\d", n)]
    assert all(n in numbers or n == "111" for n in stated), stated

    # A reload carries on the same conversation, with what was said shown once.
    before = log_items(page)
    conversation_id = session_id(page)
    page.reload()
    expect(panel(page)).to_be_visible()  # it was open: it stays open
    expect(page.locator(".awhina-log > li")).to_have_count(len(before))
    assert log_items(page) == before
    assert session_id(page) == conversation_id

    # A button reply sends the payload and shows the title.
    say(page, "what can you do?")
    buttons = page.locator(".awhina-log .awhina-bot").last.get_by_role("button")
    expect(buttons.first).to_be_visible()
    housing = page.get_by_role("button", name="Housing").last
    answered = bot_messages(page).count()
    housing.click()
    expect(user_messages(page).last).to_have_text(re.compile(r"Housing$"))
    settle(page, answered)
    expect(housing).to_be_disabled()
    assert "/need_housing" not in "\n".join(log_items(page))

    # After a reload the history shows the button's title too, not its payload.
    after = log_items(page)
    page.reload()
    expect(page.locator(".awhina-log > li")).to_have_count(len(after))
    assert log_items(page) == after


def test_message_pushed_by_the_server_shows_without_asking(
    browsing: Browsing, widget_site: WidgetSite
):
    page, conversation_id = greeted(browsing, widget_site)
    page.keyboard.press("Escape")
    expect(panel(page)).to_be_hidden()
    users = user_messages(page).count()

    pushed = widget_site.stack.execute(conversation_id, "utter_capabilities")
    assert pushed.status_code == 200, pushed.text
    launcher = page.get_by_role("button", name=re.compile(LAUNCHER))
    expect(launcher).to_contain_text("1 new")
    launcher.click()
    expect(bot_messages(page).last).to_contain_text(domain_text("utter_capabilities")[:60])
    expect(user_messages(page)).to_have_count(users)
    expect(launcher).not_to_contain_text("new")


def test_pushed_text_renders_safely_live_and_from_history(
    browsing: Browsing, widget_site: WidgetSite
):
    page, conversation_id = greeted(browsing, widget_site)
    text = (
        'Kia ora e te whānau <img src=x onerror="window.pwned=1"> <script>window.pwned=1</script>\n'
        "**Free** help: [Alcohol Drug Helpline](https://example.org/help) or "
        "[click](javascript:window.pwned=1), see https://example.org/more."
    )
    image = f"{widget_site.url}/static/no-such-image.png"
    appended = requests.post(
        f"{widget_site.stack.rasa_url}/conversations/{conversation_id}/tracker/events",
        params={"token": TOKEN, "output_channel": "latest", "execute_side_effects": "true"},
        json=[{"event": "bot", "text": text, "data": {"image": image}}],
        timeout=60,
    )
    assert appended.status_code == 200, appended.text

    def check() -> None:
        message = page.locator(".awhina-log .awhina-bot", has_text="Kia ora e te whānau")
        expect(message).to_have_count(1)
        expect(message).to_contain_text('<img src=x onerror="window.pwned=1">')
        expect(message.locator("strong")).to_have_text("Free")
        links = message.get_by_role("link")
        expect(links).to_have_count(2)
        helpline = message.get_by_role("link", name=re.compile("Alcohol Drug Helpline"))
        expect(helpline).to_have_attribute("href", "https://example.org/help")
        expect(helpline).to_have_attribute("target", "_blank")
        expect(helpline).to_have_attribute("rel", "noopener noreferrer")
        bare = message.get_by_role("link", name="https://example.org/more")
        expect(bare).to_have_attribute("href", "https://example.org/more")
        expect(message).to_contain_text("[click](javascript:window.pwned=1)")
        assert message.locator("img, script").count() == 0
        picture = page.locator(".awhina-log img.awhina-image").last
        expect(picture).to_have_attribute("src", image)
        expect(picture).to_have_attribute("alt", "Image from Āwhina")
        assert page.evaluate("window.pwned === undefined")

    check()
    page.reload()
    check()


def test_embedded_on_another_site_with_its_config(browsing: Browsing, widget_site: WidgetSite):
    """One script tag on another origin: config applied, chat works, history read cross-origin."""
    page = browsing.page
    page.goto(f"{widget_site.partner}/")
    page.get_by_role("button", name="Kōrero ki a Āwhina").click()
    dialog = page.get_by_role("dialog", name="Kōrero mai")
    expect(dialog).to_be_visible()
    expect(page.locator(".awhina-greeting")).to_have_text(re.compile("Kia ora from the partner"))
    expect(page.get_by_role("button", name="Tukua")).to_be_visible()
    header = page.locator(".awhina-header")
    expect(header).to_have_css("background-color", "rgb(74, 35, 90)")
    box = page.get_by_role("textbox", name="Tō karere")
    box.fill("kia ora")
    box.press("Enter")
    settle(page, 0)
    before = log_items(page)
    page.reload()
    expect(page.locator(".awhina-log > li")).to_have_count(len(before))
    assert log_items(page) == before


def said_while_offline(browsing: Browsing, site: WidgetSite) -> tuple[Page, str, Locator]:
    """A greeted conversation, cut off, and the bot's capabilities said meanwhile (only
    Rasa's tracker has them): the page, the conversation's id and the status line."""
    page, conversation_id = greeted(browsing, site)
    status = page.locator(".awhina-status")
    browsing.context.set_offline(True)
    expect(status).to_have_text("Connection lost. Trying again…")
    pushed = site.stack.execute(conversation_id, "utter_capabilities")
    assert pushed.status_code == 200, pushed.text
    return page, conversation_id, status


def test_dropped_connection_reconnects_and_catches_up(browsing: Browsing, widget_site: WidgetSite):
    page, conversation_id, status = said_while_offline(browsing, widget_site)
    browsing.context.set_offline(False)
    expect(status).to_be_empty()
    expect(bot_messages(page).last).to_contain_text(domain_text("utter_capabilities")[:60])
    assert session_id(page) == conversation_id
    say(page, "thanks")


def test_history_that_fails_after_a_reconnect_is_fetched_again(
    browsing: Browsing, widget_site: WidgetSite
):
    """The history read after a dropped connection fails once: the widget says so, tries
    again, and the message said meanwhile still shows."""
    page, conversation_id, status = said_while_offline(browsing, widget_site)
    refused: list[str] = []

    def refuse_once(route: Route) -> None:
        if refused:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.fulfill(status=502, json={"error": "The assistant could not give it just now."})

    page.route("**/api/history/*", refuse_once)
    browsing.context.set_offline(False)
    expect(status).to_have_text("Earlier messages could not be loaded just now.")
    expect(bot_messages(page).last).to_contain_text(domain_text("utter_capabilities")[:60])
    expect(status).to_be_empty()
    assert refused == [f"{widget_site.url}/api/history/{conversation_id}"]
    assert log_items(page).count(log_items(page)[-1]) == 1


def test_keyboard_only(browsing: Browsing, widget_site: WidgetSite):
    page = browsing.page
    page.goto(f"{widget_site.url}/")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('awhina-launcher')"):
            break
    else:
        pytest.fail("the launcher cannot be reached with Tab")
    launcher = page.get_by_role("button", name=LAUNCHER)
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "no visible focus on the launcher"
    page.keyboard.press("Enter")
    expect(panel(page)).to_be_visible()
    expect(message_box(page)).to_be_focused()

    text = "kia ora, he pātai tāku mō te whānau"
    page.keyboard.type(text)
    expect(page.locator("#awhina-counter")).to_have_text(f"{len(text)} / 1000 characters")
    answered = bot_messages(page).count()
    page.keyboard.press("Enter")
    expect(user_messages(page).last).to_have_text(re.compile(re.escape(text)))
    settle(page, answered)
    expect(message_box(page)).to_have_value("")
    expect(message_box(page)).to_be_focused()

    page.keyboard.press("Shift+Tab")  # back from the message box: the log can be scrolled
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # Send
    expect(page.get_by_role("button", name="Send")).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel(page)).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")


def test_input_is_limited_with_a_visible_counter(browsing: Browsing, widget_site: WidgetSite):
    page = browsing.page
    open_widget(page, widget_site)
    message_box(page).fill("ā" * 1200)
    expect(message_box(page)).to_have_value("ā" * 1000)
    counter = page.locator("#awhina-counter")
    expect(counter).to_be_visible()
    expect(counter).to_have_text("1000 / 1000 characters")
    assert message_box(page).get_attribute("aria-describedby") == "awhina-counter"


@pytest.mark.parametrize("how", ["button", "shift-escape"])
def test_quick_exit_leaves_and_back_does_not_return(
    browsing: Browsing, widget_site: WidgetSite, how: str
):
    page = browsing.page
    page.goto(f"{widget_site.url}/embed")
    open_widget(page, widget_site)
    say(page, "kia ora")
    if how == "button":
        page.get_by_role("button", name="Quick exit").click()
    else:
        message_box(page).press("Shift+Escape")
    page.wait_for_url(widget_site.exit_url)
    page.go_back()
    assert page.url != f"{widget_site.url}/", "Back returned to the chat"
    assert page.url == f"{widget_site.url}/embed"


def test_clear_chat_from_this_device(browsing: Browsing, widget_site: WidgetSite):
    page = browsing.page
    open_widget(page, widget_site)
    say(page, "kia ora")
    old = session_id(page)
    page.get_by_role("button", name="Clear this chat from this device").click()
    page.get_by_role("button", name="Yes, clear it").click()
    expect(user_messages(page)).to_have_count(0)
    expect(bot_messages(page)).to_have_count(0)
    expect(page.locator(".awhina-greeting")).to_have_count(1)
    page.wait_for_function(
        "(old) => { const v = localStorage.getItem('awhina.session'); return v && v !== old; }",
        arg=old,
    )
    page.reload()
    expect(panel(page)).to_be_visible()
    expect(page.locator(".awhina-greeting")).to_have_count(1)
    expect(user_messages(page)).to_have_count(0)
    say(page, "kia ora")
    assert session_id(page) != old


def test_the_accessibility_check_finds_problems(browser):
    session = open_context(browser, bypass_csp=True)
    try:
        session.page.set_content(
            '<main><button style="color:#bbb;background:#fff"></button>'
            '<p style="color:#ccc;background:#fff">faint</p></main>'
        )
        found = serious_violations(session.page)
    finally:
        session.context.close()
    assert any(v.startswith("button-name") for v in found), found
    assert any(v.startswith("color-contrast") for v in found), found


def test_no_serious_accessibility_violations(browser, widget_site: WidgetSite):
    # axe is injected into the page, which our Content-Security-Policy would refuse.
    session = open_context(browser, viewport={"width": 1280, "height": 800}, bypass_csp=True)
    try:
        page = session.page
        open_widget(page, widget_site)
        say(page, "what can you do?")
        expect(page.locator(".awhina-reply").first).to_be_visible()
        assert serious_violations(page) == []
        page.goto(f"{widget_site.url}/embed")
        assert serious_violations(page) == []
    finally:
        session.context.close()
    assert not session.off_machine


def test_small_phone_screen(browser, widget_site: WidgetSite):
    session = open_context(
        browser, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    try:
        page = session.page
        open_widget(page, widget_site)
        box = panel(page).bounding_box()
        assert box == {"x": 0, "y": 0, "width": 360, "height": 740}, box
        say(page, "my son is on meth in greymouth https://example.org/" + "a" * 120)
        sizes = page.evaluate(
            """() => {
            const log = document.querySelector('.awhina-log');
            return {page: document.documentElement.scrollWidth, view: innerWidth,
                    log: log.scrollWidth, logView: log.clientWidth};
        }"""
        )
        assert sizes["page"] <= sizes["view"], sizes
        assert sizes["log"] <= sizes["logView"], sizes
        field = message_box(page).bounding_box()
        assert field["x"] >= 0 and field["x"] + field["width"] <= 360, field
        assert field["y"] >= 0 and field["y"] + field["height"] <= 740, field
        expect(page.get_by_role("button", name="Quick exit")).to_be_in_viewport()
        expect(page.get_by_role("button", name="Send")).to_be_in_viewport()
    finally:
        session.context.close()
    assert not session.off_machine
