"""Every route of the inbox in one place; a test checks the API ones against openapi.yaml.

Each operation on a request (``ops.OPERATIONS``) is a form POST under
``/requests/{id}/`` and a JSON POST under ``/api/requests/{id}/``.
"""

from __future__ import annotations

from aiohttp import web

from bot.config import ROOT
from bot.navigator import api, curation, insights, live, ops, views

STATIC = ROOT / "bot" / "navigator" / "static"
REQUEST = "/requests/{request_id}"
API_REQUEST = "/api/requests/{request_id}"


def setup_routes(app: web.Application) -> None:
    app.router.add_routes(
        [
            web.get("/", views.index),
            web.get("/health", views.health),
            web.get("/login", views.login_form),
            web.post("/login", views.login),
            web.post("/logout", views.logout),
            web.get("/requests", views.request_list),
            web.get("/requests/fragment", views.request_list_fragment),
            web.get("/live", live.organisation_stream),
            web.get(REQUEST, views.request_page),
            web.get(f"{REQUEST}/live", live.transcript_stream),
            web.get("/api/me", api.me),
            web.get("/api/requests", api.list_requests),
            web.get(API_REQUEST, api.get_request),
            web.get(f"{API_REQUEST}/transcript", api.transcript),
            web.static("/static", STATIC, name="static", append_version=True),
        ]
    )
    insights.setup(app)
    curation.setup(app)
    for operation in ops.OPERATIONS:
        app.router.add_post(f"{REQUEST}/{operation.page_path}", views.page_action(operation))
        app.router.add_post(f"{API_REQUEST}/{operation.api_path}", api.api_action(operation))
