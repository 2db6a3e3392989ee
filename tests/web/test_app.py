"""The web app: pages, headers, cached assets, the history API and the REST relay."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from bot.channels.widget import parse_origins
from bot.web.assets import FILES
from bot.web.settings import Settings
from tests.web.conftest import ALLOWED, TOKEN, FakeRasa, run

SESSION = "0123456789abcdef0123456789abcdef"


class Resources(HTMLParser):
    """Every URL a page would fetch, and its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" in attrs:
            self.urls.append(attrs["src"])
        elif tag == "script":
            self._in_script = True
            self.inline.append("")
        elif tag == "link":
            self.urls.append(attrs["href"])
        elif tag in ("img", "iframe", "source") and "src" in attrs:
            self.urls.append(attrs["src"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.inline[-1] += data


def _csp(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def test_health_and_common_headers():
    async def check(client, rasa):
        response = await client.get("/health")
        assert response.status == 200
        assert await response.json() == {"status": "ok"}
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]

    run(check)


@pytest.mark.parametrize("path", ["/", "/embed"])
def test_pages_are_self_contained_with_strict_headers(path):
    async def check(client, rasa):
        response = await client.get(path)
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert response.headers["Cache-Control"] == "public, max-age=60"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        csp = _csp(response.headers["Content-Security-Policy"])
        assert csp["default-src"] == "'none'"
        assert csp["frame-ancestors"] == "'none'"
        assert csp["connect-src"] == "'self' http://127.0.0.1:5005 ws://127.0.0.1:5005"
        assert csp["style-src"] == "'self'"
        assert "unsafe" not in response.headers["Content-Security-Policy"]
        page = Resources()
        page.feed(await response.text())
        for url in page.urls:
            assert not urlsplit(url).netloc, f"{path} loads {url} from elsewhere"
            fetched = await client.get(url)
            assert fetched.status == 200, url
        # each inline script is allowed by its exact hash, nothing else is
        allowed = set(re.findall(r"'sha256-[^']+'", csp["script-src"]))
        for source in page.inline:
            digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in allowed

    run(check)


def test_demo_page_embeds_the_widget_with_one_script_tag_and_config():
    async def check(client, rasa):
        html = await (await client.get("/")).text()
        assert '<script src="/widget.js" defer></script>' in html
        assert "window.AwhinaConfig = {" in html
        assert '"exitUrl": "https://www.google.com/search?q=weather"' in html
        assert "Āwhina" in html  # UTF-8 end to end

    run(check)


def test_embed_page_documents_a_copyable_snippet():
    async def check(client, rasa):
        html = await (await client.get("/embed")).text()
        origin = str(client.make_url("")).rstrip("/")
        assert f'&lt;script src="{origin}/widget.js" defer&gt;&lt;/script&gt;' in html
        assert 'id="snippet"' in html and 'data-target="snippet"' in html
        assert "Copy the snippet" in html
        for option in ("serverUrl", "title", "greeting", "colours", "labelsLanguage", "exitUrl"):
            assert f"<code>{option}</code>" in html
        assert "WIDGET_ALLOWED_ORIGINS" in html

    run(check)


def test_widget_loader_is_short_cached_and_points_at_fingerprinted_assets():
    async def check(client, rasa):
        response = await client.get("/widget.js")
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/javascript")
        assert response.headers["Cache-Control"] == "public, max-age=300"
        etag = response.headers["ETag"]
        source = await response.text()
        assert "__AWHINA_LOADER_DATA__" not in source
        assert '"serverUrl": "http://127.0.0.1:5005"' in source
        assert '"maxLength": 1000' in source
        names = re.findall(r'"static/([^"]+)"', source)
        assert sorted(n.split(".")[0] for n in names) == ["socket", "widget", "widget"]
        for name in names:
            asset = await client.get(f"/static/{name}")
            assert asset.status == 200
            assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            body = await asset.read()
            digest = hashlib.sha256(body).hexdigest()
            assert digest[:12] in name, "the name carries the content hash"
            again = await client.get(f"/static/{name}", headers={"If-None-Match": f'"{digest}"'})
            assert again.status == 304
        unchanged = await client.get("/widget.js", headers={"If-None-Match": etag})
        assert unchanged.status == 304
        assert unchanged.headers["Cache-Control"] == "public, max-age=300"

    run(check)


def test_socket_io_client_is_vendored_with_its_licence_header():
    head = FILES["socket.io.min.js"].read_text(encoding="utf-8")[:200]
    assert re.search(r"Socket\.IO v4\.\d+\.\d+", head)
    assert "Released under the MIT License" in head


def test_widget_sources_build_no_html_from_text_and_fetch_nothing_elsewhere():
    for name in ("widget.js", "widget.css", "site.css", "embed.js"):
        source = FILES[name].read_text(encoding="utf-8")
        assert not re.search(r"\.(inner|outer)HTML\b|insertAdjacentHTML|document\.write", source)
        assert "@import" not in source and "url(" not in source, name
        assert "fonts.googleapis" not in source and "analytics" not in source, name


@pytest.mark.parametrize(
    "path",
    [
        "/static/widget.js",  # only fingerprinted names are served
        "/static/widget.000000000000.js",
        "/static/..%2F..%2Fapp.py",
        "/static/%2e%2e/settings.py",
        "/static/vendor/socket.io.min.js",
    ],
)
def test_unknown_static_paths_are_404(path):
    async def check(client, rasa):
        response = await client.get(path)
        assert response.status == 404
        assert response.headers["X-Content-Type-Options"] == "nosniff"

    run(check)


def test_history_returns_what_the_person_saw(conversation):
    rasa = FakeRasa(trackers={SESSION: conversation})

    async def check(client, rasa):
        response = await client.get(f"/api/history/{SESSION}")
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert await response.json() == {
            "session_id": SESSION,
            "messages": [
                {"sender": "user", "text": "my son is on meth in greymouth"},
                {"sender": "bot", "text": "Here are some services."},
                {"sender": "bot", "text": "First one"},
                {"sender": "bot", "text": "Second one"},
                {
                    "sender": "bot",
                    "text": "What kind of help?",
                    "buttons": [
                        {"title": "Housing", "payload": "/need_housing"},
                        {"title": "Health", "payload": "/need_health"},
                    ],
                },
                {"sender": "user", "text": "Housing"},
                {"sender": "bot", "image": "https://example.org/map.png"},
                {"sender": "user", "text": "kia ora e hoa, he pātai <b>tāku</b>"},
            ],
        }
        (call,) = rasa.calls
        assert call.query["token"] == TOKEN
        assert call.query["include_events"] == "AFTER_RESTART"

    run(check, rasa)


def test_history_of_an_unknown_conversation_is_empty():
    async def check(client, rasa):
        response = await client.get(f"/api/history/{'f' * 32}")
        assert response.status == 200
        assert (await response.json())["messages"] == []

    run(check)


@pytest.mark.parametrize(
    "bad_id",
    [
        "abc",
        "0123456789ABCDEF0123456789ABCDEF",
        "0123456789abcdef0123456789abcdeg",
        "0123456789abcdef0123456789abcdef0",
        "0123456789abcdef0123456789abcde",
        "0123456789abcdef%2F..%2F..%2Fstatus",
        "'%3B%20DROP%20TABLE%20events%3B--",
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "0123456789abcdef0123456789abcdef%00",
        "wh%C4%81nau",
        "%20" * 32,
    ],
)
def test_history_refuses_malformed_ids_without_asking_rasa(bad_id):
    async def check(client, rasa):
        response = await client.get(f"/api/history/{bad_id}")
        assert response.status == 400
        assert "error" in await response.json()
        assert rasa.calls == []

    run(check)


@pytest.mark.parametrize("mode", ["error", "garbage"])
def test_history_when_rasa_fails_is_a_502(mode):
    async def check(client, rasa):
        response = await client.get(f"/api/history/{SESSION}")
        assert response.status == 502
        assert "error" in await response.json()
        assert response.headers["Cache-Control"] == "no-store"

    run(check, FakeRasa(mode=mode))


def test_history_when_rasa_is_down_is_a_502():
    async def check(client, rasa):
        response = await client.get(f"/api/history/{SESSION}")
        assert response.status == 502
        assert "error" in await response.json()

    run(check, rasa_up=False)


def test_history_with_a_wrong_token_is_a_502_and_logged(caplog):
    async def check(client, rasa):
        response = await client.get(f"/api/history/{SESSION}")
        assert response.status == 502

    run(check, rasa_token="wrong")
    assert "Rasa answered 401" in caplog.text
    assert SESSION not in caplog.text


def test_history_without_a_token_configured_is_a_503():
    async def check(client, rasa):
        response = await client.get(f"/api/history/{SESSION}")
        assert response.status == 503
        assert rasa.calls == []

    run(check, rasa_token=None)


@pytest.mark.parametrize(
    "origin, allowed", [(ALLOWED, True), ("https://evil.example", False), (None, False)]
)
def test_history_is_readable_cross_origin_only_by_allowed_sites(origin, allowed):
    async def check(client, rasa):
        headers = {"Origin": origin} if origin else {}
        for path in (f"/api/history/{SESSION}", "/api/history/bad"):
            response = await client.get(path, headers=headers)
            assert response.headers.get("Access-Control-Allow-Origin") == (
                origin if allowed else None
            )
            assert response.headers["Vary"] == "Origin"

    run(check)


def test_chat_relay_still_works_and_rejects_bad_input():
    async def check(client, rasa):
        ok = await client.post("/chat", json={"sender": "s" * 12, "message": "kia ora"})
        assert ok.status == 200
        assert (await ok.json())["replies"][0]["text"] == "you said 7 chars"
        controls = await client.post("/chat", json={"message": "kia\x00 ora\x07\x9b"})
        assert (await controls.json())["replies"][0]["text"] == "you said 7 chars"  # dropped
        for body, status in [
            (b"not json", 400),
            (b'{"message": ""}', 400),
            (b'{"message": "\\u0000\\u0007"}', 400),
            (b'["a list"]', 400),
            (b'{"message": 5}', 400),
            (('{"message": "' + "a" * 1001 + '"}').encode(), 413),
            (b"\xff\xfe\x00", 400),
        ]:
            response = await client.post(
                "/chat", data=body, headers={"Content-Type": "application/json"}
            )
            assert response.status == status, body[:40]
            assert "error" in await response.json()
        assert len(rasa.calls) == 2

    run(check)


def test_chat_relay_when_rasa_is_down_says_where_to_get_help():
    async def check(client, rasa):
        response = await client.post("/chat", json={"message": "kia ora"})
        assert response.status == 502
        text = (await response.json())["replies"][0]["text"]
        assert "111" in text and "1737" in text

    run(check, rasa_up=False)


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:5999")
    monkeypatch.setenv("RASA_TOKEN", "secret")
    monkeypatch.setenv("WIDGET_SERVER_URL", "https://chat.example.org")
    monkeypatch.setenv("WIDGET_ALLOWED_ORIGINS", " https://a.example.org, https://b.example.org/ ")
    monkeypatch.setenv("WIDGET_EXIT_URL", "https://example.org/weather")
    settings = Settings.from_env()
    assert settings.rasa_url == "http://127.0.0.1:5999"
    assert settings.rasa_token == "secret"
    assert settings.allowed_origins == ("https://a.example.org", "https://b.example.org")
    assert settings.socket_origins == ("https://chat.example.org", "wss://chat.example.org")
    assert settings.exit_url == "https://example.org/weather"


@pytest.mark.parametrize(
    "value", ["*", "example.org", "https://example.org/path", "javascript:alert(1)", "ftp://x.org"]
)
def test_bad_origins_are_refused(value):
    with pytest.raises(ValueError):
        parse_origins(value)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "not a url", "data:text/html,hi"])
def test_bad_exit_or_server_urls_are_refused(url):
    with pytest.raises(ValueError):
        Settings(rasa_url="http://x", rasa_token=None, widget_server_url="http://x", exit_url=url)
    with pytest.raises(ValueError):
        Settings(rasa_url="http://x", rasa_token=None, widget_server_url=url)
