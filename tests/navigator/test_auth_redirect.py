"""Where sign-in sends the navigator next: only a path of the inbox itself."""

from __future__ import annotations

import pytest

from bot.navigator.auth import safe_next
from tests.navigator.conftest import PASSWORD, csrf_in

OFF_SITE = [
    "//evil.example/x",
    "/\t/evil.example/",
    "/%09/evil.example/",
    "/\n/evil.example/",
    "/\r\n/evil.example",
    "/ /evil.example",
    "/\\evil.example",
    "/\\\\evil.example",
    "\\/evil.example",
    "/%5Cevil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%252F%252Fevil.example",
    "///evil.example",
    "https://evil.example/",
    "http:/evil.example",
    "javascript:alert(1)",
    "data:text/html,hi",
    " /requests",
    "evil.example",
    "",
    None,
    "/requests\x00",
    "/r\u00e9quests",
    "/\u3002evil.example",
    "/" + "x" * 400,
]
SAME_SITE = ["/requests", "/requests/abc-123", "/requests?status=new", "/requests/a%20b"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_anything_but_a_plain_inbox_path_goes_to_the_list(target):
    assert safe_next(target) == "/requests"


@pytest.mark.parametrize("target", SAME_SITE)
def test_inbox_paths_are_kept(target):
    assert safe_next(target) == target


@pytest.mark.asyncio
@pytest.mark.parametrize("target", ["/\t/evil.example/", "/%09/evil.example/", "/\\evil"])
async def test_sign_in_never_redirects_off_site(client, world, target):
    page = await client.get("/login", params={"next": target})
    html = await page.text()
    assert "evil" not in html
    response = await client.post(
        "/login",
        data={
            "email": world.navigators["a"],
            "password": PASSWORD,
            "csrf_token": csrf_in(html),
            "next": target,
        },
        allow_redirects=False,
    )
    assert response.status == 303
    assert response.headers["Location"] == "/requests"
