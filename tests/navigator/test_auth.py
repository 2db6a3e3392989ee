"""Signing in and out, sessions, login rate limiting, CSRF and security headers."""

from __future__ import annotations

import pytest

from tests.navigator.conftest import (
    PASSWORD,
    FakeRasa,
    World,
    bearer,
    csrf_in,
    login,
    settings_for,
    start_client,
)

pytestmark = pytest.mark.asyncio

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


async def _attempt(client, email: str, password: str):
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_in(await page.text())},
        allow_redirects=False,
    )


async def test_login_sets_a_strict_httponly_cookie_and_logout_ends_the_session(client, world):
    response = await _attempt(client, world.navigators["a"], PASSWORD)
    assert response.status == 303
    assert response.headers["Location"] == "/requests"
    cookie = response.cookies["inbox_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert not cookie["secure"]  # plain http on loopback, INBOX_SECURE_COOKIES unset
    page = await client.get("/requests")
    assert page.status == 200
    assert "Mere" in await page.text() and "Poutini Test A" in await page.text()

    token = csrf_in(await page.text())
    response = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    response = await client.get("/requests", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/login")


async def test_logged_out_cookie_no_longer_works(client, world):
    await login(client, world)
    old = client.session.cookie_jar.filter_cookies(client.make_url("/"))["inbox_session"].value
    page = await client.get("/requests")
    await client.post("/logout", data={"csrf_token": csrf_in(await page.text())})
    response = await client.get(
        "/requests", headers={"Cookie": f"inbox_session={old}"}, allow_redirects=False
    )
    assert response.status == 303


async def test_secure_cookies_when_configured(world, fake_rasa: FakeRasa):
    client = await start_client(settings_for(world, fake_rasa.url, secure_cookies=True))
    try:
        page = await client.get("/login")
        login_cookie = page.cookies["inbox_login_csrf"]
        assert login_cookie["secure"] and login_cookie["httponly"]
        # The client would not send a Secure cookie over plain http: send it by hand.
        response = await client.post(
            "/login",
            data={
                "email": world.navigators["a"],
                "password": PASSWORD,
                "csrf_token": csrf_in(await page.text()),
            },
            headers={"Cookie": f"inbox_login_csrf={login_cookie.value}"},
            allow_redirects=False,
        )
        assert response.status == 303
        cookie = response.cookies["inbox_session"]
        assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Strict"
    finally:
        await client.close()


@pytest.mark.parametrize(
    "email, password",
    [
        ("a@example.org", "wrong password!!"),
        ("nobody@example.org", PASSWORD),
        ("A@EXAMPLE.ORG", "wrong password!!"),
    ],
)
async def test_wrong_password_or_unknown_email_is_refused_the_same_way(
    client, world, email, password
):
    response = await _attempt(client, email, password)
    assert response.status == 401
    assert "do not match an account" in await response.text()
    assert "inbox_session" not in response.cookies


async def test_email_is_case_insensitive(client, world):
    response = await _attempt(client, "  A@Example.ORG ", PASSWORD)
    assert response.status == 303


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"email": "a@example.org"},
        {"password": PASSWORD},
        {"email": "a@example.org", "password": ""},
        {"email": "x" * 300 + "@example.org", "password": PASSWORD},
        {"email": "a@example.org", "password": "p" * 2000},
    ],
)
async def test_bad_login_forms_get_400(client, world, data):
    page = await client.get("/login")
    response = await client.post(
        "/login", data={**data, "csrf_token": csrf_in(await page.text())}, allow_redirects=False
    )
    assert response.status == 400


async def test_login_without_or_with_a_wrong_csrf_token_is_403(client, world):
    await client.get("/login")  # sets the login CSRF cookie
    data = {"email": world.navigators["a"], "password": PASSWORD}
    assert (await client.post("/login", data=data, allow_redirects=False)).status == 403
    data["csrf_token"] = "forged"
    assert (await client.post("/login", data=data, allow_redirects=False)).status == 403


async def test_five_failures_for_an_email_lock_it_for_the_window(client, world):
    email = world.navigators["a"]
    for _ in range(5):
        assert (await _attempt(client, email, "wrong password!!")).status == 401
    response = await _attempt(client, email, PASSWORD)  # even the right password
    assert response.status == 429
    assert "Too many sign-in attempts" in await response.text()
    assert int(response.headers["Retry-After"]) > 0
    world.clock.advance(minutes=16)
    assert (await _attempt(client, email, PASSWORD)).status == 303


async def test_success_clears_the_email_count(client, world):
    email = world.navigators["a"]
    for _ in range(3):
        await _attempt(client, email, "wrong password!!")
    assert (await _attempt(client, email, PASSWORD)).status == 303


async def test_session_expires_after_idle_time(client, world):
    token = await login(client, world)
    world.clock.advance(hours=8, minutes=1)
    response = await client.get("/requests", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/login")
    before = world.snapshot()
    response = await client.post(
        f"/requests/{world.req_a}/claim", data={"csrf_token": token}, allow_redirects=False
    )
    assert response.status == 401
    assert "session has ended" in await response.text()
    assert world.snapshot() == before


async def test_session_has_an_absolute_limit_even_when_used(client, world):
    await login(client, world)
    for _ in range(11):
        world.clock.advance(hours=1)
        assert (await client.get("/requests", allow_redirects=False)).status == 200
    world.clock.advance(hours=1, minutes=1)
    assert (await client.get("/requests", allow_redirects=False)).status == 303


async def test_login_redirects_only_inside_the_inbox(client, world):
    for target, expected in (
        ("//evil.example/x", "/requests"),
        ("https://evil.example/", "/requests"),
        ("/\\evil.example", "/requests"),
        (f"/requests/{world.req_a}", f"/requests/{world.req_a}"),
    ):
        client.session.cookie_jar.clear()
        page = await client.get("/login")
        response = await client.post(
            "/login",
            data={
                "email": world.navigators["a"],
                "password": PASSWORD,
                "csrf_token": csrf_in(await page.text()),
                "next": target,
            },
            allow_redirects=False,
        )
        assert response.headers["Location"] == expected


async def test_pages_need_a_session(client, world):
    response = await client.get(f"/requests/{world.req_a}", allow_redirects=False)
    assert response.status == 303
    assert (await client.get("/live")).status == 401
    assert (await client.get(f"/requests/{world.req_a}/live")).status == 401


POST_ROUTES = [
    "/logout",
    "/requests/{id}/claim",
    "/requests/{id}/release",
    "/requests/{id}/in-contact",
    "/requests/{id}/close",
    "/requests/{id}/notes",
    "/requests/{id}/live/start",
    "/requests/{id}/live/message",
    "/requests/{id}/live/end",
    "/curation/services/{id}",
    "/curation/services/{id}/verified",
]


async def test_every_html_post_route_is_in_the_csrf_list(client):
    routes = {
        r.resource.canonical.replace("{request_id}", "{id}").replace("{service_id}", "{id}")
        for r in client.app.router.routes()
        if r.method == "POST" and not r.resource.canonical.startswith("/api/")
    }
    assert routes - {"/login"} == set(POST_ROUTES)


@pytest.mark.parametrize("path", POST_ROUTES)
@pytest.mark.parametrize("token", [None, "", "forged-token"])
async def test_post_without_a_valid_csrf_token_is_403_and_changes_nothing(
    client, world: World, path, token
):
    await login(client, world)
    before = world.snapshot()
    data = {"outcome": "connected", "text": "hello"}
    if token is not None:
        data["csrf_token"] = token
    response = await client.post(path.format(id=world.req_a), data=data, allow_redirects=False)
    assert response.status == 403
    assert world.snapshot() == before
    assert (await client.get("/requests", allow_redirects=False)).status == 200  # still signed in


async def test_csrf_token_of_another_session_is_refused(client, world, fake_rasa):
    other = await start_client(settings_for(world, fake_rasa.url))
    try:
        stolen = await login(other, world, "a2")
    finally:
        await other.close()
    await login(client, world)
    response = await client.post(
        f"/requests/{world.req_a}/claim", data={"csrf_token": stolen}, allow_redirects=False
    )
    assert response.status == 403


async def test_security_headers_on_every_kind_of_response(client, world):
    await login(client, world)
    responses = [
        await client.get("/login"),
        await client.get("/requests"),
        await client.get(f"/requests/{world.req_a}"),
        await client.get("/requests/fragment"),
        await client.get("/static/inbox.css"),
        await client.get("/static/inbox.js"),
        await client.get("/health"),
        await client.get("/no-such-page"),
        await client.get(f"/requests/{world.req_b}"),  # another organisation's: 404
        await client.post("/requests", data={}),  # 405
        await client.get("/api/requests", headers=bearer(world)),
        await client.get("/api/requests"),  # 401
    ]
    stream = await client.get("/live")
    responses.append(stream)
    for response in responses:
        csp = response.headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, response.url
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (response.url, name)
    stream.close()
    assert responses[1].headers["Cache-Control"] == "no-store"


async def test_pages_load_nothing_from_other_sites(client, world):
    await login(client, world)
    for path in ("/login", "/requests", f"/requests/{world.req_a}"):
        html = await (await client.get(path)).text()
        assert "http://" not in html and "https://" not in html, path
        assert "<script>" not in html and " on" + "click=" not in html  # CSP: no inline script
        assert 'style="' not in html
