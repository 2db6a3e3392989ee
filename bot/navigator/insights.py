"""The insights page: needs and gaps for coordinators and the leadership group's viewers.

Figures come from bot/insights/report.py, already suppressed. Charts are SVG
images of their own (each with a policy that allows their inline styles and
nothing else); the CSV and the monthly PDF take the same filters as the page.
A viewer sees only these pages: ``viewer_middleware`` keeps them out of requests.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from aiohttp import web

from bot.config import NZ
from bot.insights import charts, report
from bot.navigator import ops, store
from bot.navigator.keys import SETTINGS
from bot.navigator.middlewares import error_response
from bot.navigator.views import render

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CHARTS = {
    "needs": charts.needs_over_time,
    "gaps": charts.gap_map,
    "funnel": charts.funnel,
    "channels": charts.channels,
}
# A page and its four charts ask for the same figures at once: they are built once,
# and kept this long (a search made meanwhile shows after that).
KEEP_FOR = timedelta(seconds=60)
Built = dict[report.Filters, tuple[datetime, "asyncio.Future[report.Report]"]]
BUILT: web.AppKey[Built] = web.AppKey("insights_built")
# What a viewer may open besides the insights pages.
VIEWER_PATHS = ("/logout", "/health")
ASKED_LABELS = {
    "searched": "Searches (a conversation, a need, a week)",
    "asked": "then asked for a navigator",
    "consented": "then agreed to be contacted",
    "sent": "then a request was sent",
}
CHART_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


async def _report(request: web.Request) -> report.Report:
    """The report for the filters in the query string (a bad one: 400 with the reason)."""
    navigator = request.get("navigator")
    if navigator is None or not navigator.sees_insights:
        raise web.HTTPForbidden(reason="insights")
    today = request.app[SETTINGS].clock().astimezone(NZ).date()
    try:
        filters = report.Filters.parse(dict(request.query), today)
    except report.FilterError as exc:
        raise web.HTTPBadRequest(reason="filters", text=str(exc)) from exc
    now = request.app[SETTINGS].clock()
    built = request.app[BUILT]
    for key in [k for k, (at, _) in built.items() if now - at >= KEEP_FOR]:
        del built[key]
    if filters not in built:
        task = asyncio.ensure_future(store.run(request.app, report.build, filters))
        built[filters] = (now, task)
    task = built[filters][1]
    try:
        return await asyncio.shield(task)
    except Exception:
        if built.get(filters, (None, None))[1] is task:
            del built[filters]  # a failure is not kept: the next request tries again
        raise


def _refusal(request: web.Request, exc: web.HTTPException) -> web.Response:
    if exc.status == 403:
        return error_response(request, 403, "The insights page is for coordinators and viewers.")
    return error_response(request, exc.status, exc.text)


async def page(request: web.Request) -> web.Response:
    try:
        built = await _report(request)
    except (web.HTTPForbidden, web.HTTPBadRequest) as exc:
        return _refusal(request, exc)
    return render(
        request,
        "insights.html",
        {
            "report": built,
            "query": request.query_string,
            "summaries": report.summaries(built),
            "areas": report.areas(),
            "needs": report.needs(),
            "area_label": report.area_label,
            "need_label": report.need_label,
            "total": report.TOTAL,
            "count": report.COUNT,
            "stage_labels": charts.STAGE_LABELS,
            "asked_labels": ASKED_LABELS,
            "insight_outcomes": ops.OUTCOME_LABELS,
        },
    )


async def chart(request: web.Request) -> web.Response:
    draw = CHARTS.get(request.match_info["name"])
    if draw is None:
        return error_response(request, 404, "There is no such chart.")
    try:
        built = await _report(request)
    except (web.HTTPForbidden, web.HTTPBadRequest) as exc:
        return _refusal(request, exc)
    body = await asyncio.to_thread(lambda: charts.svg(draw(built)))
    response = web.Response(text=body, content_type="image/svg+xml")
    response.headers["Content-Security-Policy"] = CHART_POLICY
    return response


async def export_csv(request: web.Request) -> web.Response:
    try:
        built = await _report(request)
    except (web.HTTPForbidden, web.HTTPBadRequest) as exc:
        return _refusal(request, exc)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(report.CSV_HEADER)
    writer.writerows(report.csv_rows(built))
    name = f"awhina-needs-{built.filters.first}-{built.filters.last}.csv"
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def monthly_pdf(request: web.Request) -> web.Response:
    try:
        built = await _report(request)
    except (web.HTTPForbidden, web.HTTPBadRequest) as exc:
        return _refusal(request, exc)
    body = await asyncio.to_thread(charts.monthly_pdf, built, report.summaries(built))
    name = f"awhina-needs-{built.filters.first}-{built.filters.last}.pdf"
    return web.Response(
        body=body,
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def setup(app: web.Application) -> None:
    """The insights routes, and where their figures are kept while they are fresh."""
    app[BUILT] = {}
    app.router.add_routes(
        [
            web.get("/insights", page),
            web.get("/insights/chart/{name}.svg", chart),
            web.get("/insights/export.csv", export_csv),
            web.get("/insights/report.pdf", monthly_pdf),
        ]
    )


@web.middleware
async def viewer_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A viewer reads figures, never a request: anything else sends them to the insights
    page (a page) or is refused (the API). Runs after ``auth_middleware``."""
    navigator = request.get("navigator")
    path = request.path
    if navigator is None or navigator.role != "viewer" or path.startswith("/insights"):
        return await handler(request)
    if path in VIEWER_PATHS or path.startswith("/static/"):
        return await handler(request)
    if request.method == "GET" and not path.startswith("/api/"):
        raise web.HTTPSeeOther("/insights")
    return error_response(request, 403, "A viewer account sees only the insights page.")
