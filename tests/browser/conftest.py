"""The chat widget in a real browser (Chromium driven by Playwright) against the real stack.

``widget_site`` starts a web app beside the shared stack (real Rasa with the
trained model, action server, database; see tests/e2e/conftest.py), on the port
whose origin Rasa's socket.io channel allows; it has the Rasa token so it can
serve the conversation history.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect, sync_playwright

from bot.config import ROOT
from tests.e2e.conftest import TOKEN, Stack, wait_for

CHROMIUM = Path("/usr/bin/chromium")
# Without the networking flags Chromium keeps trying to reach Google, which this machine refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK = {"127.0.0.1", "localhost"}
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# Rasa's first answers (model, action server, database) can take a while on a busy machine.
expect.set_options(timeout=45_000)


# Another organisation's page embedding the widget with its own config (served on loopback).
PARTNER_PAGE = """<!doctype html>
<html lang="en-NZ"><head><meta charset="utf-8"><title>Partner</title></head>
<body><main><h1>A partner organisation</h1></main>
<script>window.AwhinaConfig = {
  title: "Kōrero mai", greeting: "Kia ora from the partner", labelsLanguage: "mi",
  colours: {primary: "#4a235a", onPrimary: "#ffffff"}, exitUrl: "%(exit)s"
};</script>
<script src="%(widget)s/widget.js" defer></script>
</body></html>"""


def serve_partner_page(port: int, html: str) -> ThreadingHTTPServer:
    body = html.encode("utf-8")

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(200 if self.path == "/" else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass
class WidgetSite:
    url: str  # our web app: demo page, widget assets, history API
    partner: str  # another site (origin) allowed to embed the widget
    exit_url: str  # where Quick exit goes in these tests (a local page)
    stack: Stack


@pytest.fixture(scope="session")
def widget_site(stack: Stack) -> Iterator[WidgetSite]:
    """Our web app on the port the shared stack allows as a socket.io origin."""
    running = stack
    port, partner_port = running.widget_port, running.partner_port
    origin = f"http://127.0.0.1:{port}"
    partner = f"http://127.0.0.1:{partner_port}"
    allowed = running.env["WIDGET_ALLOWED_ORIGINS"]
    exit_url = f"{origin}/health"
    partner_server = serve_partner_page(
        partner_port, PARTNER_PAGE % {"exit": exit_url, "widget": origin}
    )
    log = running.workdir / "widget-web.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "web", "--port", str(port)],
        cwd=ROOT,
        env={
            **running.env,
            "RASA_TOKEN": TOKEN,
            "WIDGET_ALLOWED_ORIGINS": allowed,
            "WIDGET_EXIT_URL": exit_url,
        },
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"{origin}/health", 30, [proc])
        yield WidgetSite(origin, partner, exit_url, running)
    except Exception:
        print(log.read_text(errors="replace")[-3000:])
        raise
    finally:
        partner_server.shutdown()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    """Chromium, per module: Playwright's sync API keeps an event loop running until it stops."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing: .ci/run installs the chromium package")
        pytest.skip("/usr/bin/chromium not installed (browser tests run in CI)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Browsing:
    """A fresh browser profile (own localStorage) and a page in it."""

    context: object
    page: object
    off_machine: list[str]  # requests that tried to leave loopback (blocked)
    console: list[str]  # the page's console and errors, printed when a test fails


def open_context(browser, **options) -> Browsing:
    context = browser.new_context(locale="en-NZ", **options)
    context.set_default_timeout(45_000)
    off_machine: list[str] = []

    def guard(route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            off_machine.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"error: {error}"))
    return Browsing(context, page, off_machine, console)


@pytest.fixture
def browsing(browser) -> Iterator[Browsing]:
    """A desktop-sized page; fails the test if anything was fetched from off the machine."""
    session = open_context(browser, viewport={"width": 1280, "height": 800})
    yield session
    print("\n".join(session.console))
    session.context.close()
    assert not session.off_machine, f"third-party requests: {session.off_machine}"


def serious_violations(page) -> list[str]:
    """The serious and critical accessibility problems axe-core finds on ``page``."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
