"""The insights page: who may see it, what it shows, its charts, CSV and PDF, and bad filters."""

from __future__ import annotations

import asyncio

import pytest

from bot.db import session_scope
from bot.handoff import accounts
from bot.insights import demo, report
from tests.navigator.conftest import PASSWORD, World, csrf_in

pytestmark = pytest.mark.asyncio


def _coordinator_viewer_and_demo_rows(world: World) -> None:
    """A coordinator, a viewer and 14 weeks of demo records, added to the world once per
    session (tests/navigator/conftest.py's ``world_setup``): each test gets a copy, where
    writing the demo rows for each test took about half a second."""
    with session_scope(world.url) as session:
        for key in ("coordinator", "viewer"):
            navigator = accounts.create_navigator(
                session, f"{key}@example.org", key.title(), "team-a-grey", PASSWORD, role=key
            )
            world.navigators[key] = navigator.email
            world.tokens[key] = accounts.issue_api_token(session, navigator)
        demo.write(session, world.clock().date(), weeks=14)


@pytest.fixture
def world_setup():
    return _coordinator_viewer_and_demo_rows


async def _sign_in(client, world: World, key: str) -> None:
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={"email": world.navigators[key], "password": PASSWORD,
              "csrf_token": csrf_in(await page.text())},
        allow_redirects=False,
    )  # fmt: skip
    assert response.status == 303


async def test_a_coordinator_sees_the_figures_marked_demo(client, world: World):
    await _sign_in(client, world, "coordinator")
    response = await client.get("/insights")
    html = await response.text()
    assert response.status == 200
    assert "Demo data." in html and "Searches by need and district" in html
    assert "fewer than 5" in html
    assert 'src="/insights/chart/gaps.svg?' in html
    assert 'href="/insights">Needs and gaps</a>' in await (await client.get("/requests")).text()
    chart = await client.get("/insights/chart/gaps.svg")
    assert chart.status == 200 and chart.content_type == "image/svg+xml"
    assert chart.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert (await chart.text()).startswith("<svg")


async def test_the_csv_and_the_monthly_pdf(client, world: World):
    await _sign_in(client, world, "coordinator")
    response = await client.get("/insights/export.csv", params={"area": "buller"})
    lines = (await response.text()).splitlines()
    assert response.content_type == "text/csv"
    assert lines[0] == "from,to,need,area,searches,nothing_local_share,demo"
    assert {line.split(",")[3] for line in lines[1:]} == {"buller", "all"}
    pdf = await client.get("/insights/report.pdf")
    assert pdf.content_type == "application/pdf"
    assert (await pdf.read()).startswith(b"%PDF")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/insights?from=2026-99", "&#39;from&#39; must be a month written YYYY-MM"),
        ("/insights/export.csv?area=mars", "&#39;area&#39; must be one of"),
        ("/insights/chart/pie.svg", "There is no such chart."),
    ],
)
async def test_bad_filters_get_a_clear_error(client, world: World, path: str, message: str):
    await _sign_in(client, world, "coordinator")
    response = await client.get(path)
    assert response.status in (400, 404)
    assert message in await response.text()


async def test_a_navigator_may_not_see_the_insights(client, world: World):
    await _sign_in(client, world, "a")
    assert 'href="/insights"' not in await (await client.get("/requests")).text()
    response = await client.get("/insights")
    assert response.status == 403
    assert "for coordinators and viewers" in await response.text()


async def test_a_viewer_sees_only_the_insights(client, world: World):
    await _sign_in(client, world, "viewer")
    for path in ("/requests", f"/requests/{world.req_a}", "/"):
        response = await client.get(path, allow_redirects=False)
        assert (response.status, response.headers.get("Location")) == (303, "/insights"), path
    assert (await client.get("/insights")).status == 200
    api = await client.get(
        "/api/requests", headers={"Authorization": f"Bearer {world.tokens['viewer']}"}
    )
    assert api.status == 403
    assert "only the insights page" in (await api.json())["message"]


async def test_an_unknown_role_is_refused(world: World):
    with session_scope(world.url) as session, pytest.raises(accounts.AccountError, match="role"):
        accounts.create_navigator(
            session, "x@example.org", "X", "team-a-grey", PASSWORD, role="boss"
        )


async def test_a_page_and_its_charts_build_the_figures_once(client, world: World, monkeypatch):
    await _sign_in(client, world, "coordinator")
    calls = []
    build = report.build
    monkeypatch.setattr(report, "build", lambda *args: calls.append(args) or build(*args))
    paths = ["/insights", *(f"/insights/chart/{name}.svg" for name in ("needs", "gaps"))]
    responses = await asyncio.gather(*(client.get(path) for path in paths))
    assert [r.status for r in responses] == [200, 200, 200]
    assert len(calls) == 1
    world.clock.advance(seconds=61)
    assert (await client.get("/insights/export.csv")).status == 200
    assert len(calls) == 2
