"""Sign-in limits: counted before the password is checked, by address and account,
with waits that double but never lock a navigator out of an address they use."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from ipaddress import ip_network

import pytest
import pytest_asyncio

from bot.db import session_scope
from bot.handoff import accounts
from bot.navigator import limits
from bot.navigator.settings import trusted_proxies
from tests.navigator.conftest import PASSWORD, START, csrf_in, settings_for, start_client

WRONG = "wrong password!!"
PROXY = (ip_network("127.0.0.1/32"),)


async def _form(client) -> str:
    """A fresh sign-in form, as from a browser that is not signed in."""
    client.session.cookie_jar.clear()
    return csrf_in(await (await client.get("/login")).text())


async def _attempt(client, email: str, password: str, address: str | None = None) -> int:
    headers = {"X-Forwarded-For": address} if address else {}
    response = await client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": await _form(client)},
        headers=headers,
        allow_redirects=False,
    )
    return response.status


async def _fail(client, email: str, times: int, address: str | None = None) -> None:
    """``times`` wrong passwords, each checked and refused."""
    for _ in range(times):
        assert await _attempt(client, email, WRONG, address) == 401


@pytest.fixture
def checked(monkeypatch) -> list[str]:
    """The passwords that reached the check."""
    seen: list[str] = []
    real = accounts.verify_password
    monkeypatch.setattr(
        accounts,
        "verify_password",
        lambda password, stored: seen.append(password) or real(password, stored),
    )
    return seen


@pytest_asyncio.fixture
async def proxied(world, fake_rasa):
    """The inbox behind a proxy on loopback: X-Forwarded-For says who is signing in."""
    client = await start_client(settings_for(world, fake_rasa.url, trusted_proxies=PROXY))
    yield client
    await client.close()


@pytest.mark.asyncio
async def test_thirty_parallel_wrong_passwords_check_at_most_the_limit(client, world, checked):
    token = await _form(client)
    data = {"email": world.navigators["a"], "password": WRONG, "csrf_token": token}
    responses = await asyncio.gather(
        *(client.post("/login", data=data, allow_redirects=False) for _ in range(30))
    )
    statuses = sorted(r.status for r in responses)
    assert statuses.count(401) == 5 and statuses.count(429) == 25
    assert len(checked) == 5


@pytest.mark.asyncio
async def test_the_wait_doubles_with_every_further_failure(client, world):
    email = world.navigators["a"]
    await _fail(client, email, 5)
    assert await _attempt(client, email, PASSWORD) == 429
    world.clock.advance(minutes=15, seconds=1)
    assert await _attempt(client, email, WRONG) == 401
    world.clock.advance(minutes=29)
    assert await _attempt(client, email, PASSWORD) == 429
    world.clock.advance(minutes=1, seconds=1)
    assert await _attempt(client, email, PASSWORD) == 303


@pytest.mark.asyncio
async def test_a_sign_in_that_works_clears_the_address_and_account(client, world):
    email = world.navigators["a"]
    await _fail(client, email, 4)
    assert await _attempt(client, email, PASSWORD) == 303
    await _fail(client, email, 4)


@pytest.mark.asyncio
async def test_forwarded_addresses_are_ignored_unless_the_proxy_is_trusted(client, world):
    email = world.navigators["a"]
    for i in range(5):
        assert await _attempt(client, email, WRONG, f"203.0.113.{i}") == 401
    assert await _attempt(client, email, PASSWORD, "203.0.113.99") == 429


@pytest.mark.asyncio
async def test_an_attacker_elsewhere_cannot_lock_the_navigator_out(proxied, world):
    email = world.navigators["a"]
    assert await _attempt(proxied, email, PASSWORD, "198.51.100.7") == 303  # their office
    await _fail(proxied, email, 5, "203.0.113.1")
    assert await _attempt(proxied, email, WRONG, "203.0.113.1") == 429  # that address waits
    for i in range(2, 17):  # 20 failures on the account, from 16 addresses
        assert await _attempt(proxied, email, WRONG, f"203.0.113.{i}") == 401
    assert await _attempt(proxied, email, WRONG, "203.0.113.200") == 429  # the account waits
    assert await _attempt(proxied, email, PASSWORD, "198.51.100.7") == 303  # not from the office
    assert await _attempt(proxied, email, PASSWORD, "192.0.2.1") == 429  # a new address waits,
    world.clock.advance(minutes=15, seconds=1)  # but one window at most
    assert await _attempt(proxied, email, PASSWORD, "192.0.2.1") == 303


@pytest.mark.asyncio
async def test_one_address_trying_many_accounts_is_stopped(proxied, world):
    for i in range(20):
        assert await _attempt(proxied, f"guess{i}@example.org", WRONG, "203.0.113.9") == 401
    assert await _attempt(proxied, world.navigators["b"], PASSWORD, "203.0.113.9") == 429
    assert await _attempt(proxied, world.navigators["b"], PASSWORD, "203.0.113.10") == 303


@pytest.mark.parametrize(
    "peer_trusted, forwarded, expected",
    [
        (False, "203.0.113.5", "127.0.0.1"),
        (True, "203.0.113.5", "203.0.113.5"),
        (True, "198.51.100.1, 203.0.113.5", "203.0.113.5"),  # the client wrote the first
        (True, "203.0.113.5, 127.0.0.1", "203.0.113.5"),  # through two trusted proxies
        (True, "not an address", "127.0.0.1"),
        (True, "", "127.0.0.1"),
    ],
)
def test_the_address_is_the_nearest_one_no_trusted_proxy_vouches_for(
    peer_trusted, forwarded, expected
):
    from aiohttp.test_utils import make_mocked_request

    from bot.navigator.auth import client_address
    from bot.navigator.keys import SETTINGS
    from bot.navigator.settings import Settings

    settings = Settings(
        "sqlite://", "http://rasa", None, trusted_proxies=PROXY if peer_trusted else ()
    )
    app = {SETTINGS: settings}
    request = make_mocked_request("POST", "/login", headers={"X-Forwarded-For": forwarded}, app=app)
    request._transport_peername = ("127.0.0.1", 5000)
    assert client_address(request) == expected


def test_trusted_proxies_setting():
    assert trusted_proxies("") == ()
    assert trusted_proxies("127.0.0.1, 10.0.0.0/8") == (
        ip_network("127.0.0.1/32"),
        ip_network("10.0.0.0/8"),
    )
    with pytest.raises(ValueError):
        trusted_proxies("10.0.0.0/33")


def test_parallel_attempts_are_counted_atomically_on_each_backend(db_url):
    """Thirty threads, one database: exactly the limit get through, on SQLite and PostgreSQL."""
    ours = limits.Limits(5, timedelta(minutes=15)).for_attempt("a@example.org", "203.0.113.1")
    start = threading.Barrier(30)
    passed: list[bool] = []

    def one() -> None:
        start.wait()
        try:
            with session_scope(db_url) as session:
                limits.attempt(session, ours, START)
            passed.append(True)
        except limits.Refused:
            passed.append(False)

    threads = [threading.Thread(target=one) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert passed.count(True) == 5 and passed.count(False) == 25
