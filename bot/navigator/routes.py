"""Every route of the inbox in one place; a test checks the API ones against openapi.yaml."""

from __future__ import annotations

from aiohttp import web

from bot.config import ROOT
from bot.navigator import api, live, views

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
            web.post(f"{REQUEST}/claim", views.claim),
            web.post(f"{REQUEST}/release", views.release),
            web.post(f"{REQUEST}/in-contact", views.in_contact),
            web.post(f"{REQUEST}/close", views.close),
            web.post(f"{REQUEST}/notes", views.add_note),
            web.post(f"{REQUEST}/live/start", views.live_start),
            web.post(f"{REQUEST}/live/message", views.live_message),
            web.post(f"{REQUEST}/live/end", views.live_end),
            web.get("/api/me", api.me),
            web.get("/api/requests", api.list_requests),
            web.get(API_REQUEST, api.get_request),
            web.get(f"{API_REQUEST}/transcript", api.transcript),
            web.post(f"{API_REQUEST}/claim", api.claim),
            web.post(f"{API_REQUEST}/release", api.release),
            web.post(f"{API_REQUEST}/in-contact", api.in_contact),
            web.post(f"{API_REQUEST}/close", api.close),
            web.post(f"{API_REQUEST}/notes", api.add_note),
            web.post(f"{API_REQUEST}/live/start", api.live_start),
            web.post(f"{API_REQUEST}/live/end", api.live_end),
            web.post(f"{API_REQUEST}/messages", api.send_message),
            web.static("/static", STATIC, name="static", append_version=True),
        ]
    )
