"""Sign-in sessions live in the database: lifetimes, what the table holds, and two inbox
replicas (or a restart) sharing them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.navigator.sessions import InboxSessionRow, SessionStore
from tests.navigator.conftest import START, FakeRasa, World, login, settings_for, start_client

pytestmark = pytest.mark.asyncio


def _rows(world: World) -> list[tuple[str, str, str]]:
    with session_scope(world.url) as db:
        return [(r.key, r.navigator_id, r.flashes) for r in db.scalars(select(InboxSessionRow))]


async def test_sessions_expire_when_idle_or_too_old_and_alive_does_not_touch(world: World):
    sessions = SessionStore(idle=timedelta(minutes=10), absolute=timedelta(minutes=25))
    navigator = world.navigator_ids["a"]

    def at(minutes: int):
        return START + timedelta(minutes=minutes)

    with session_scope(world.url) as db:
        watched, _ = sessions.create(db, navigator, at(0))
        used, _ = sessions.create(db, navigator, at(0))
    with session_scope(world.url) as db:
        assert sessions.alive(db, watched, at(9))
    with session_scope(world.url) as db:
        assert not sessions.alive(db, watched, at(11))  # alive() at 9 did not touch it
    with session_scope(world.url) as db:
        assert sessions.get(db, used, at(9)) is not None
    with session_scope(world.url) as db:
        assert sessions.get(db, used, at(18)) is not None  # get() at 9 did
    with session_scope(world.url) as db:
        assert sessions.get(db, used, at(26)) is None  # the absolute limit, though used
        assert sessions.get(db, "not-a-token", at(0)) is None
        assert sessions.get(db, "x" * 1000, at(0)) is None
    assert _rows(world) == []  # the expired row is gone, not just refused


async def test_the_table_holds_a_digest_never_the_cookies_token(client, world: World):
    await login(client, world)
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["inbox_session"]
    [(key, navigator_id, _)] = _rows(world)
    assert navigator_id == world.navigator_ids["a"]
    assert cookie.value not in key and len(key) == 64


async def test_a_session_works_on_every_replica_and_signing_out_on_one_ends_it_on_all(
    world: World, fake_rasa: FakeRasa
):
    settings = settings_for(world, fake_rasa.url)
    first, second = await start_client(settings), await start_client(settings)
    try:
        token = await login(first, world)
        cookie = first.session.cookie_jar.filter_cookies(first.make_url("/"))["inbox_session"]
        headers = {"Cookie": f"inbox_session={cookie.value}"}

        # A claim on one replica; its one-time message shows on the other's next page.
        claim = await first.post(
            f"/requests/{world.req_a}/claim", data={"csrf_token": token}, allow_redirects=False
        )
        assert claim.status == 303
        page = await second.get(f"/requests/{world.req_a}", headers=headers)
        assert page.status == 200
        assert "You hold this request now." in await page.text()
        again = await first.get(f"/requests/{world.req_a}")
        assert "You hold this request now." not in await again.text()  # shown once

        # The second replica takes the first one's CSRF token too: one session.
        note = await second.post(
            f"/requests/{world.req_a}/notes",
            data={"csrf_token": token, "text": "Rang her"},
            headers=headers,
            allow_redirects=False,
        )
        assert note.status == 303

        out = await second.post(
            "/logout", data={"csrf_token": token}, headers=headers, allow_redirects=False
        )
        assert out.status == 303
        after = await first.get("/requests", allow_redirects=False)
        assert after.status == 303 and after.headers["Location"].startswith("/login")
    finally:
        await first.close()
        await second.close()
    assert world.kinds(world.req_a) == ["created", "claimed", "note"]


async def test_a_session_outlives_an_inbox_restart(world: World, fake_rasa: FakeRasa):
    settings = settings_for(world, fake_rasa.url)
    before = await start_client(settings)
    try:
        await login(before, world)
        cookie = before.session.cookie_jar.filter_cookies(before.make_url("/"))["inbox_session"]
    finally:
        await before.close()
    after = await start_client(settings)
    try:
        page = await after.get(
            "/requests", headers={"Cookie": f"inbox_session={cookie.value}"}, allow_redirects=False
        )
        assert page.status == 200
    finally:
        await after.close()
