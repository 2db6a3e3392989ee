"""Live updates (server-sent events), the live reply through Rasa, and escalation."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import pytest

from bot.navigator import escalator
from bot.navigator.settings import Settings
from tests.navigator.conftest import (
    FakeRasa,
    World,
    eventually,
    login,
    read_sse,
    settings_for,
    start_client,
)

pytestmark = pytest.mark.asyncio


async def _post(client, path: str, token: str, **fields: str):
    return await client.post(path, data={"csrf_token": token, **fields}, allow_redirects=False)


async def _claimed(client, world: World, fake_rasa: FakeRasa) -> tuple[str, str]:
    """Navigator ``a`` signed in, holding ``req_a``, whose person has said "kia ora":
    the CSRF token and the request's path."""
    fake_rasa.say(world.req_a_conversation, "kia ora")
    token = await login(client, world)
    base = f"/requests/{world.req_a}"
    await _post(client, f"{base}/claim", token)
    return token, base


async def test_a_new_request_reaches_only_its_organisations_streams(
    client, world: World, fake_rasa: FakeRasa
):
    other = await start_client(settings_for(world, fake_rasa.url))
    try:
        await login(client, world, "a")
        await login(other, world, "b")
        stream_a = await client.get("/live")
        stream_b = await other.get("/live")
        assert stream_a.headers["Content-Type"] == "text/event-stream"
        await asyncio.sleep(0.2)  # the hub has its cursor
        new_id = await asyncio.to_thread(
            world.submit, "conv-live", place_key="greymouth", urgent=True
        )
        created = ("request", json.dumps({"kind": "created", "id": new_id, "urgent": True}))
        events_a = await read_sse(stream_a, 10, until=lambda events: created in events)
        assert created in events_a
        # Org B's app has its own hub: it sees the event, but not for its organisation.
        assert [e for e in await read_sse(stream_b, 0.8) if e[0] == "request"] == []
        stream_a.close()
        stream_b.close()
    finally:
        await other.close()


@contextlib.asynccontextmanager
async def escalating(settings: Settings) -> AsyncIterator[None]:
    """The escalation worker (``python -m bot escalator``), every 50 ms, in this event loop."""
    task = asyncio.create_task(escalator.run(settings, 0.05))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_an_escalated_request_arrives_in_the_new_organisations_stream(
    world: World, fake_rasa: FakeRasa
):
    settings = settings_for(world, fake_rasa.url, unclaimed_minutes=30)
    client = await start_client(settings)
    try:
        await login(client, world, "b")
        stream = await client.get("/live")
        # A request in Westport goes to A's regional team; unclaimed for 31
        # minutes, it goes up to the national team (B).
        await asyncio.sleep(0.2)
        coast = await asyncio.to_thread(world.submit, "conv-coast", place_key="westport")
        world.clock.advance(minutes=31)
        escalated = {"kind": "escalated", "id": coast, "urgent": False}

        def requests(events: list[tuple[str, str]]) -> list[dict]:
            return [json.loads(data) for name, data in events if name == "request"]

        async with escalating(settings):
            events = await read_sse(stream, 10, until=lambda events: escalated in requests(events))
        assert escalated in requests(events)
        assert world.request(coast).team_id == "team-b-nz"
        stream.close()
    finally:
        await client.close()


async def test_unclaimed_requests_escalate_with_no_inbox_running(world: World, fake_rasa: FakeRasa):
    async with escalating(settings_for(world, fake_rasa.url, unclaimed_minutes=30)):
        await asyncio.sleep(0.3)
        assert world.request(world.req_a).team_id == "team-a-grey"  # staffed, not overdue
        world.clock.advance(minutes=31)
        # req_a is "keep chatting here": the person is told who has it now
        told = ("execute", "action_handoff_escalated")
        await eventually(lambda: "escalated" in world.kinds(world.req_a))
        await eventually(lambda: told in fake_rasa.rasa_calls())
    assert world.request(world.req_a).team_id == "team-a-coast"


async def test_the_page_swaps_in_the_list_fragment(client, world: World):
    await login(client, world)
    fragment = await (await client.get("/requests/fragment")).text()
    assert world.req_a in fragment and "<html" not in fragment


async def test_live_reply_calls_rasa_in_order_and_records_messages(
    client, world: World, fake_rasa: FakeRasa
):
    cid = world.req_a_conversation
    token, base = await _claimed(client, world, fake_rasa)
    page = await (await client.get(base)).text()
    assert "Join the conversation" in page
    fake_rasa.calls.clear()

    assert (await _post(client, f"{base}/live/start", token)).status == 303
    assert fake_rasa.paused[cid] is True
    assert fake_rasa.rasa_calls() == [
        ("events", [{"event": "slot", "name": "navigator_live", "value": True}]),
        (
            "events",
            [
                {"event": "slot", "name": "navigator_name", "value": "Mere"},
                {"event": "slot", "name": "navigator_org", "value": "Poutini Test A"},
            ],
        ),
        ("execute", "action_navigator_joined"),
    ]
    page = await (await client.get(base)).text()
    assert "Hand back to Āwhina" in page and 'data-transcript="' in page
    fake_rasa.calls.clear()

    response = await _post(client, f"{base}/live/message", token, text="Kia ora Aroha, it's Mere")
    assert response.status == 303
    assert fake_rasa.rasa_calls() == [
        (
            "events",
            [
                {"event": "slot", "name": "navigator_name", "value": "Mere"},
                {"event": "slot", "name": "navigator_org", "value": "Poutini Test A"},
                {"event": "slot", "name": "navigator_message", "value": "Kia ora Aroha, it's Mere"},
            ],
        ),
        ("execute", "action_navigator_message"),
    ]
    assert fake_rasa.listens_after_executes(), "the conversation is left listening"
    fake_rasa.calls.clear()

    assert (await _post(client, f"{base}/live/end", token)).status == 303
    assert fake_rasa.paused[cid] is False
    assert [c for c in fake_rasa.rasa_calls() if c[0] == "execute"] == [
        ("execute", "action_navigator_left")
    ]
    assert fake_rasa.rasa_calls()[0] == (
        "events",
        [{"event": "slot", "name": "navigator_live", "value": None}],
    )
    assert world.kinds(world.req_a) == [
        "created",
        "claimed",
        "live_started",
        "message",
        "live_ended",
    ]


async def test_the_persons_new_messages_stream_to_the_holder_only(
    client, world: World, fake_rasa: FakeRasa
):
    cid = world.req_a_conversation
    token, base = await _claimed(client, world, fake_rasa)
    await _post(client, f"{base}/live/start", token)
    last = fake_rasa.trackers[cid][-1]["timestamp"]
    stream = await client.get(f"{base}/live?after={last}")
    assert stream.status == 200
    fake_rasa.say(cid, "is anyone there?")
    fake_rasa.say(cid, "i might hurt myself", intent="crisis_suicide")
    turns = [json.loads(d) for name, d in await read_sse(stream, 1.0) if name == "turn"]
    assert [(t["actor"], t["text"], t["crisis"]) for t in turns] == [
        ("user", "is anyone there?", False),
        ("user", "i might hurt myself", True),
    ]
    stream.close()

    other = await start_client(settings_for(world, fake_rasa.url))
    try:
        await login(other, world, "a2")
        assert (await other.get(f"{base}/live")).status == 409  # same organisation, not holder
    finally:
        await other.close()
    assert (await client.get(f"{base}/live?after=soon")).status == 400
    assert (await client.get(f"{base}/live?after=nan")).status == 400


async def test_the_stream_ends_when_the_request_is_no_longer_held(
    client, world: World, fake_rasa: FakeRasa
):
    token, base = await _claimed(client, world, fake_rasa)
    stream = await client.get(f"{base}/live")
    await _post(client, f"{base}/release", token)
    names = [name for name, _ in await read_sse(stream, 1.0)]
    assert "end" in names
    stream.close()


async def test_joining_when_the_action_is_missing_resumes_the_bot_and_records_nothing(
    client, world: World, fake_rasa: FakeRasa
):
    cid = world.req_a_conversation
    fake_rasa.unknown.add("action_navigator_joined")
    token, base = await _claimed(client, world, fake_rasa)
    before = world.snapshot()
    response = await _post(client, f"{base}/live/start", token)
    assert response.status == 502
    html = await response.text()
    assert "not present in domain" in html and "Join the conversation" in html
    assert fake_rasa.paused[cid] is False
    assert world.snapshot() == before


async def test_a_message_the_action_server_drops_is_reported_and_not_recorded(
    client, world: World, fake_rasa: FakeRasa
):
    token, base = await _claimed(client, world, fake_rasa)
    await _post(client, f"{base}/live/start", token)
    fake_rasa.silent.add("action_navigator_message")
    before = world.snapshot()
    response = await _post(client, f"{base}/live/message", token, text="hello?")
    assert response.status == 502
    assert "sent nothing" in await response.text()
    assert world.snapshot() == before


async def test_live_reply_with_rasa_down_shows_a_clear_error(world: World):
    client = await start_client(settings_for(world, "http://127.0.0.1:9"))
    try:
        token = await login(client, world)
        base = f"/requests/{world.req_a}"
        response = await _post(client, f"{base}/claim", token)
        assert response.status == 303  # the claim stands
        page = await (await client.get(base)).text()
        assert "could not tell the person" in page and "not answering" in page
        before = world.snapshot()
        response = await _post(client, f"{base}/live/start", token)
        assert response.status == 502
        assert "not answering" in await response.text()
        assert world.snapshot() == before
    finally:
        await client.close()


async def test_release_and_close_hand_back_first(client, world: World, fake_rasa: FakeRasa):
    cid = world.req_a_conversation
    token, base = await _claimed(client, world, fake_rasa)
    await _post(client, f"{base}/live/start", token)
    assert (await _post(client, f"{base}/close", token, outcome="connected")).status == 303
    assert fake_rasa.paused[cid] is False
    assert world.kinds(world.req_a)[-2:] == ["live_ended", "closed"]


async def test_a_chat_request_for_a_forgotten_conversation(
    client, world: World, fake_rasa: FakeRasa
):
    from bot.db import session_scope
    from bot.handoff import service

    with session_scope(world.url) as session:
        service.forget_conversation(session, world.req_a_conversation, world.clock())
    await login(client, world)
    html = await (await client.get(f"/requests/{world.req_a}")).text()
    assert "asked Āwhina to forget" in html and "Aroha" not in html
    assert fake_rasa.calls == []  # no tracker was asked for (it would be recreated)
