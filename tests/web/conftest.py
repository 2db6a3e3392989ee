"""The web app built by its real factory, in-process, with a stand-in for Rasa's HTTP API.

The stand-in answers like Rasa 3.6 (``rasa/server.py``): ``GET
/conversations/{id}/tracker`` needs ``?token=``, returns the stored events, and for
an id it has never seen an empty tracker (the real one also saves it).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.web.app import create_app
from bot.web.settings import Settings

TOKEN = "test-token"
ALLOWED = "https://partner.example.org"


@dataclass
class FakeRasa:
    trackers: dict[str, list[dict]] = field(default_factory=dict)
    mode: str = "ok"  # ok, error (500), garbage (not JSON)
    calls: list[web.Request] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/conversations/{id}/tracker", self.tracker)
        app.router.add_post("/webhooks/rest/webhook", self.rest)
        return app

    async def tracker(self, request: web.Request) -> web.Response:
        self.calls.append(request)
        if request.query.get("token") != TOKEN:
            return web.json_response({"status": "failure", "code": 401}, status=401)
        if self.mode == "error":
            return web.json_response({"status": "failure", "code": 500}, status=500)
        if self.mode == "garbage":
            return web.Response(text="<html>proxy error</html>", content_type="text/html")
        sender = request.match_info["id"]
        started = [
            {"event": "action", "name": "action_session_start"},
            {"event": "session_started"},
            {"event": "action", "name": "action_listen"},
        ]
        return web.json_response(
            {"sender_id": sender, "slots": {}, "events": started + self.trackers.get(sender, [])}
        )

    async def rest(self, request: web.Request) -> web.Response:
        self.calls.append(request)
        body = await request.json()
        return web.json_response(
            [{"recipient_id": body["sender"], "text": f"you said {len(body['message'])} chars"}]
        )


def settings_for(rasa_url: str, **changes: Any) -> Settings:
    values = {
        "rasa_url": rasa_url,
        "rasa_token": TOKEN,
        "widget_server_url": "http://127.0.0.1:5005",
        "allowed_origins": (ALLOWED,),
        "exit_url": "https://www.google.com/search?q=weather",
    }
    return Settings(**{**values, **changes})


Check = Callable[[TestClient, FakeRasa], Awaitable[None]]


def run(check: Check, rasa: FakeRasa | None = None, rasa_up: bool = True, **settings) -> None:
    """Runs ``check`` against the app, with the stand-in Rasa up (or its port closed)."""

    async def main() -> None:
        fake = rasa or FakeRasa()
        async with TestServer(fake.app()) as rasa_server:
            url = str(rasa_server.make_url("")).rstrip("/")
            if not rasa_up:
                await rasa_server.close()
            app = create_app(settings_for(url, **settings))
            async with TestClient(TestServer(app)) as client:
                await check(client, fake)

    # In a thread of its own: other tests' tools (Playwright) may hold this thread's loop.
    with ThreadPoolExecutor(1) as worker:
        worker.submit(asyncio.run, main()).result()


@pytest.fixture
def conversation() -> list[dict]:
    """Tracker events as Rasa stores them for a widget conversation."""
    return json.loads(
        """[
        {"event": "user", "text": "my son is on meth in greymouth", "parse_data": {}},
        {"event": "slot", "name": "place", "value": "greymouth"},
        {"event": "action", "name": "action_search_services"},
        {"event": "bot", "text": "Here are some services.\\n\\nFirst one\\n\\nSecond one",
         "data": {"buttons": null, "quick_replies": null, "image": null}},
        {"event": "bot", "text": "What kind of help?",
         "data": {"buttons": [{"title": "Housing", "payload": "/need_housing"},
                               {"title": "Health", "payload": "/need_health"}]}},
        {"event": "user", "text": "/need_housing"},
        {"event": "bot", "text": "", "data": {"image": "https://example.org/map.png"}},
        {"event": "user", "text": "kia ora e hoa, he pātai <b>tāku</b>"},
        {"event": "bot", "text": null, "data": {"custom": {"x": 1}}}
    ]"""
    )
