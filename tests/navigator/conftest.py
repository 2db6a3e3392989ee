"""The real inbox app on a real SQLite database, with a fake Rasa HTTP API on loopback.

``world`` holds two organisations: A (a local 24/7 team in Grey and a regional
West Coast team with no hours) and B (the national team). Navigators ``a``
and ``a2`` work for A, ``b`` for B. ``req_a`` (chat, Greymouth) goes to A,
``req_b`` (call, no place) to B.
"""

from __future__ import annotations

import asyncio
import json
import re
import time as clock_time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
import jinja2.bccache
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.db import get_engine, session_scope
from bot.directory.models import Organization
from bot.handoff import accounts, service
from bot.handoff.models import (
    HandoffEvent,
    HandoffRequest,
    NavigatorTeam,
    NavigatorTeamArea,
    NavigatorTeamHours,
)
from bot.navigator.main import init_app
from bot.navigator.settings import Settings
from tests.conftest import Templates

LISTEN = {"event": "action", "name": "action_listen"}

RASA_TOKEN = "fake-rasa-token"
PASSWORD = "correct horse battery"
START = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)  # a Monday, 11 pm in NZ


class Clock:
    """The time the app and the service see; tests move it forward."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


class FakeRasa:
    """Rasa's HTTP API as the inbox uses it, recording every call in order.

    Like the real server: ``execute`` needs an existing conversation (404),
    answers 500 for an action in ``unknown``, and 200 with nothing said for an
    action in ``silent`` (an action server failure Rasa hides).
    """

    def __init__(self) -> None:
        self.trackers: dict[str, list[dict[str, Any]]] = {}
        self.paused: dict[str, bool] = {}
        self.calls: list[tuple[str, str, Any]] = []
        self.unknown: set[str] = set()
        self.silent: set[str] = set()
        self.app = web.Application()
        self.app.router.add_get("/conversations/{cid}/tracker", self.tracker)
        self.app.router.add_post("/conversations/{cid}/tracker/events", self.append)
        self.app.router.add_post("/conversations/{cid}/execute", self.execute)
        self.url = ""

    def say(self, cid: str, text: str, intent: str = "greet") -> None:
        self.trackers.setdefault(cid, []).append(
            {
                "event": "user",
                "text": text,
                "timestamp": clock_time.time(),
                "parse_data": {"intent": {"name": intent, "confidence": 0.9}},
            }
        )

    def _check(self, request: web.Request) -> None:
        if request.query.get("token") != RASA_TOKEN:
            raise web.HTTPUnauthorized(
                text=json.dumps({"message": "User is not authenticated."}),
                content_type="application/json",
            )

    async def tracker(self, request: web.Request) -> web.Response:
        self._check(request)
        cid = request.match_info["cid"]
        self.calls.append(("GET", "tracker", cid))
        return web.json_response({"sender_id": cid, "events": self.trackers.get(cid, [])})

    async def append(self, request: web.Request) -> web.Response:
        self._check(request)
        cid = request.match_info["cid"]
        events = await request.json()
        self.calls.append(("POST", "events", events))
        for event in events:
            if event["event"] == "slot" and event["name"] == "navigator_live":
                self.paused[cid] = bool(event["value"])
            # Rasa stamps every event it appends.
            self.trackers.setdefault(cid, []).append({"timestamp": clock_time.time(), **event})
        return web.json_response({"sender_id": cid})

    async def execute(self, request: web.Request) -> web.Response:
        self._check(request)
        cid = request.match_info["cid"]
        name = (await request.json())["name"]
        self.calls.append(("POST", "execute", name))
        assert request.query.get("output_channel") == "latest"
        if cid not in self.trackers:
            return web.json_response({"message": "Conversation ID not found."}, status=404)
        if name in self.unknown:
            return web.json_response(
                {
                    "message": "An unexpected error occurred. Error: Cannot access action "
                    f"'{name}', as that name is not present in domain."
                },
                status=500,
            )
        events = self.trackers[cid]
        events.append({"event": "action", "name": name, "timestamp": clock_time.time()})
        if name not in self.silent:
            slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
            text = f"{name}: {slots.get('navigator_name')} {slots.get('navigator_message') or ''}"
            events.append({"event": "bot", "text": text.strip(), "timestamp": clock_time.time()})
        return web.json_response({"tracker": {"sender_id": cid}, "messages": []})

    def rasa_calls(self) -> list[tuple[str, Any]]:
        """Calls that change something, without the tracker reads and the
        ``action_listen`` that follows every execute (checked on its own)."""
        return [
            (kind, detail)
            for _, kind, detail in self.calls
            if kind != "tracker" and detail != [LISTEN]
        ]

    def listens_after_executes(self) -> bool:
        """Every execute is followed, after its tracker read, by an ``action_listen``."""
        changes = [(kind, detail) for _, kind, detail in self.calls if kind != "tracker"]
        return all(
            i + 1 < len(changes) and changes[i + 1] == ("events", [LISTEN])
            for i, (kind, _) in enumerate(changes)
            if kind == "execute"
        )


@dataclass
class World:
    url: str
    clock: Clock
    navigators: dict[str, str] = field(default_factory=dict)  # key -> email
    navigator_ids: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    req_a: str = ""
    req_a_conversation: str = "conv-a"
    req_b: str = ""

    def submit(self, conversation_id: str, **fields: Any) -> str:
        draft = service.HandoffDraft(
            conversation_id=conversation_id,
            channel=fields.pop("channel", "rest"),
            contact_method=fields.pop("contact_method", "chat"),
            consent=True,
            **fields,
        )
        with session_scope(self.url) as session:
            return service.submit(session, draft, f"{conversation_id}:1", now=self.clock()).id

    def snapshot(self) -> tuple[list[tuple], list[tuple]]:
        """Every request and event row: a refused request must leave this unchanged."""
        with session_scope(self.url) as session:
            requests = [
                tuple(getattr(r, c.name) for c in HandoffRequest.__table__.columns)
                for r in session.execute(select(HandoffRequest).order_by(HandoffRequest.id))
                .scalars()
                .all()
            ]
            events = [
                (e.id, e.request_id, e.kind, e.actor, e.detail)
                for e in session.execute(select(HandoffEvent).order_by(HandoffEvent.id))
                .scalars()
                .all()
            ]
        return requests, events

    def kinds(self, request_id: str) -> list[str]:
        with session_scope(self.url) as session:
            return list(
                session.execute(
                    select(HandoffEvent.kind)
                    .where(HandoffEvent.request_id == request_id)
                    .order_by(HandoffEvent.id)
                ).scalars()
            )

    def request(self, request_id: str) -> HandoffRequest:
        with session_scope(self.url) as session:
            return session.get(HandoffRequest, request_id)


def _team(session, team_id: str, org: str, level: str, areas: list[str], always_open: bool):
    session.add(NavigatorTeam(id=team_id, organization_id=org, name=team_id, level=level))
    session.flush()
    for area in areas:
        session.add(NavigatorTeamArea(team_id=team_id, place_key=area))
    if always_open:
        for day in range(7):
            session.add(
                NavigatorTeamHours(
                    team_id=team_id, weekday=day, opens_at=time(0), closes_at=time(0)
                )
            )


def _build_world(url: str, setup: WorldSetup) -> World:
    w = World(url=url, clock=Clock(START))
    with session_scope(url) as session:
        session.add(Organization(id="org-a", name="Poutini Test A", description=""))
        session.add(Organization(id="org-b", name="National Test B", description=""))
        session.flush()
        _team(session, "team-a-grey", "org-a", "local", ["grey"], always_open=True)
        _team(session, "team-a-coast", "org-a", "regional", ["west-coast"], always_open=False)
        _team(session, "team-b-nz", "org-b", "national", ["nz"], always_open=False)
        for key, team, name in (
            ("a", "team-a-grey", "Mere"),
            ("a2", "team-a-grey", "Hemi"),
            ("b", "team-b-nz", "Sam"),
        ):
            email = f"{key}@example.org"
            navigator = accounts.create_navigator(session, email, name, team, PASSWORD)
            w.navigators[key] = email
            w.navigator_ids[key] = navigator.id
            w.tokens[key] = accounts.issue_api_token(session, navigator)
    w.req_a = w.submit(
        w.req_a_conversation,
        place_key="greymouth",
        need="drugs_alcohol",
        preferred_name="Aroha",
        need_summary="Worried about her partner using P",
    )
    w.req_b = w.submit("conv-b", contact_method="call", contact_detail="021 123 4567")
    if setup is not None:
        setup(w)
    return w


# A step a test module adds to every test's world (tests/navigator/test_curation.py loads
# the directory and adds a coordinator): override the ``world_setup`` fixture with it.
WorldSetup = Callable[[World], None] | None
# The worlds built this session, by setup: each test gets a copy of its database.
_worlds: dict[WorldSetup, World] = {}


@pytest.fixture
def world_setup() -> WorldSetup:
    return None


@pytest.fixture
def world(tmp_path: Path, templates: Templates, world_setup: WorldSetup) -> Iterator[World]:
    """The world (see the module's docstring) on a SQLite file of the test's own, a copy of
    one built once per session."""

    def build(url: str) -> None:
        _worlds[world_setup] = _build_world(url, world_setup)

    name = "world"
    if world_setup is not None:
        name += f"-{world_setup.__module__}.{world_setup.__qualname__}"
    url = templates.sqlite(name, build, tmp_path / "inbox.db")
    built = _worlds[world_setup]
    w = replace(
        built,
        url=url,
        clock=Clock(START),
        navigators=dict(built.navigators),
        navigator_ids=dict(built.navigator_ids),
        tokens=dict(built.tokens),
    )
    yield w
    get_engine(url).dispose()


@pytest_asyncio.fixture
async def fake_rasa() -> AsyncIterator[FakeRasa]:
    fake = FakeRasa()
    server = TestServer(fake.app, host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    yield fake
    await server.close()


def settings_for(world: World, rasa_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": world.url,
        "rasa_url": rasa_url,
        "rasa_token": RASA_TOKEN,
        "escalate_every_seconds": 0,
        "live_poll_seconds": 0.05,
        "transcript_poll_seconds": 0.05,
        "keepalive_seconds": 0.3,
        "rasa_timeout_seconds": 2,
        "clock": world.clock,
    }
    values.update(overrides)
    return Settings(**values)


class CompiledTemplates(jinja2.BytecodeCache):
    """The inbox's templates as compiled code, kept for the session: each test starts an
    app of its own, and compiling the templates again for every one took about a quarter
    of the time of tests/navigator/test_auth.py. Jinja checks each template's source
    against its code, so an edited template is compiled again."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


COMPILED = CompiledTemplates()


async def start_client(settings: Settings) -> TestClient:
    app = init_app(settings)
    aiohttp_jinja2.get_env(app).bytecode_cache = COMPILED
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


@pytest_asyncio.fixture
async def client(world: World, fake_rasa: FakeRasa) -> AsyncIterator[TestClient]:
    client = await start_client(settings_for(world, fake_rasa.url))
    yield client
    await client.close()


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_in(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


async def login(client: TestClient, world: World, key: str = "a") -> str:
    """Signs in as navigator ``key``; returns the session's CSRF token."""
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "email": world.navigators[key],
            "password": PASSWORD,
            "csrf_token": csrf_in(await page.text()),
        },
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    page = await client.get("/requests")
    assert page.status == 200
    return csrf_in(await page.text())


def bearer(world: World, key: str = "a") -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[key]}"}


async def read_sse(
    response, timeout: float, until: Callable[[list[tuple[str, str]]], bool] | None = None
) -> list[tuple[str, str]]:
    """The (event, data) pairs a stream sends within ``timeout`` seconds; with ``until``,
    only until they satisfy it (a test waiting for an event stops when it comes, rather
    than always waiting the whole time)."""
    events: list[tuple[str, str]] = []
    name, data = "message", ""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (left := deadline - loop.time()) > 0:
        try:
            line = await asyncio.wait_for(response.content.readline(), left)
        except asyncio.TimeoutError:
            break
        if not line:
            break
        line = line.decode().rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line == "" and data:
            events.append((name, data))
            name, data = "message", ""
            if until is not None and until(events):
                break
    return events


async def eventually(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Waits until ``condition()`` holds, as a background task's work does on a busy
    machine however long it takes (a fixed sleep would be too short there and slow here)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"not done within {timeout} s"
        await asyncio.sleep(0.02)
