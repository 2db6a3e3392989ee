"""The insights page in Chromium: a coordinator signs in on a sample database with demo data,
every chart loads from the inbox itself, and the page is photographed.

Only the inbox runs (the page needs no Rasa). ``UPDATE_SCREENSHOTS=1`` also writes the
picture the README shows, docs/insights.png.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from bot.config import ROOT
from tests.browser.conftest import Browsing
from tests.e2e.conftest import free_port, start_bot, wait_for

LOGIN = re.compile(r"Insights page\s+email: (\S+) +password: (\S+)")


def _bot(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def insights_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """The inbox on a sample database with demo data; its URL and the coordinator's login."""
    workdir = tmp_path_factory.mktemp("insights-site")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{workdir / 'sample.db'}"}
    _bot(env, "directory", "load", "--quiet")
    _bot(env, "insights", "demo")
    email, password = LOGIN.search(_bot(env, "navigator", "demo")).groups()
    port = free_port()
    proc = start_bot("inbox", env, port, workdir / "inbox.log")
    try:
        wait_for(f"http://127.0.0.1:{port}/health", 60, [proc])
        yield f"http://127.0.0.1:{port}", email, password
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_a_coordinator_sees_the_charts_and_the_page_is_photographed(
    browsing: Browsing, insights_site: tuple[str, str, str], tmp_path: Path
) -> None:
    url, email, password = insights_site
    page = browsing.page
    page.goto(f"{url}/insights")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', password)
    page.click('button[type="submit"]')
    expect(page).to_have_url(re.compile(re.escape(f"{url}/insights")))
    expect(page.get_by_role("heading", name="Needs and gaps")).to_be_visible()
    expect(page.get_by_text("Demo data.")).to_be_visible()
    charts = page.locator("img.chart")
    expect(charts).to_have_count(4)
    for i in range(4):
        expect(charts.nth(i)).to_have_js_property("complete", True)
        assert charts.nth(i).evaluate("img => img.naturalWidth") > 100
    picture = tmp_path / "insights.png"
    page.screenshot(path=str(picture), full_page=True)
    assert picture.stat().st_size > 20_000
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(picture, ROOT / "docs" / "insights.png")
