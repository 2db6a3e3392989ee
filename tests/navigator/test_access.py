"""What a navigator can reach of the person's conversation, and for how long.

The conversation id is the person's own key to their chat (the widget's
``/api/history/{id}`` and ``/chat``), so no navigator is ever shown it: their
access goes through the inbox, which checks the request each time. A closed
request's transcript ends where the request closed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.navigator.conftest import FakeRasa, World, bearer, login

pytestmark = pytest.mark.asyncio


def _turn(world: World, text: str, minutes: float) -> dict:
    at = world.clock() + timedelta(minutes=minutes)
    return {"event": "user", "text": text, "timestamp": at.timestamp(), "parse_data": {}}


async def test_no_page_or_api_answer_shows_the_conversation_id(
    client, world: World, fake_rasa: FakeRasa
):
    await login(client, world)
    cid = world.req_a_conversation
    for path in ("/requests", f"/requests/{world.req_a}"):
        assert cid not in await (await client.get(path)).text(), path
    for path in ("/requests", f"/requests/{world.req_a}", f"/requests/{world.req_a}/transcript"):
        response = await client.get(f"/api{path}", headers=bearer(world))
        assert response.status == 200 and cid not in await response.text(), path
    claimed = await client.post(f"/api/requests/{world.req_a}/claim", headers=bearer(world))
    assert cid not in await claimed.text()


async def test_a_closed_requests_transcript_ends_where_it_closed(
    client, world: World, fake_rasa: FakeRasa
):
    cid = world.req_a_conversation
    fake_rasa.trackers[cid] = [_turn(world, "my son is drinking again", -5)]
    base = f"/api/requests/{world.req_a}"
    closed = await client.post(f"{base}/close", headers=bearer(world), json={"outcome": "other"})
    assert closed.status == 200
    world.clock.advance(days=2)
    fake_rasa.trackers[cid].append(_turn(world, "my partner hit me last night", 0))
    body = await (await client.get(f"{base}/transcript", headers=bearer(world))).json()
    assert [t["text"] for t in body["turns"]] == ["my son is drinking again"]
    await login(client, world)
    page = await (await client.get(f"/requests/{world.req_a}")).text()
    assert "my son is drinking again" in page and "my partner hit me" not in page
