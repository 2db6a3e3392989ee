"""The web app (http://127.0.0.1:8000/): demo page, chat widget, history API, REST relay.

Shaped like aiohttp-demos "polls": settings from the environment
(``settings.py``), every route in ``routes.py``, handlers in ``views.py``,
headers and logging in ``middlewares.py``, pages in ``templates/``.

- ``GET /`` a demo page with the widget embedded; ``GET /embed`` how to embed it.
- ``GET /widget.js`` the one script tag embedders use; it loads the widget's
  fingerprinted assets from ``/static/``.
- ``GET /api/history/{session_id}`` a widget conversation's history, read from Rasa.
- ``POST /chat`` relays to Rasa's REST channel; ``GET /health``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator

import aiohttp_jinja2
import jinja2
from aiohttp import ClientSession, ClientTimeout, web

from bot.config import ROOT
from bot.directory.hsds.api import setup_hsds_routes
from bot.web.assets import Asset, Assets
from bot.web.keys import ASSETS, DEMO_SCRIPT, LOADER, PAGE_CSP, RASA_CLIENT, SETTINGS
from bot.web.middlewares import AccessLogger, page_csp, security_headers
from bot.web.routes import setup_routes
from bot.web.settings import Settings

TEMPLATES = ROOT / "bot" / "web" / "templates"
LOADER_SOURCE = ROOT / "widget" / "src" / "loader.js"
LOADER_DATA = "__AWHINA_LOADER_DATA__"
RASA_TIMEOUT = ClientTimeout(total=30)
DEMO_GREETING = (
    "Kia ora, I'm Āwhina, a chatbot (not a person). I can help you find support "
    "services for you or your whānau. If anyone is in danger right now, call 111."
)


def _json_for_script(data: object) -> str:
    """JSON safe inside a ``<script>`` element (no ``</script>`` can appear)."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def build_loader(assets: Assets, settings: Settings) -> Asset:
    """``widget.js`` with the current asset names and this server's defaults filled in."""
    data = {
        "assets": {
            "css": assets.url("widget.css"),
            "io": assets.url("socket.io.min.js"),
            "widget": assets.url("widget.js"),
        },
        "defaults": {
            "serverUrl": settings.widget_server_url,
            "socketPath": settings.widget_socket_path,
            "maxLength": settings.max_message_chars,
            "exitUrl": settings.exit_url,
        },
    }
    source = LOADER_SOURCE.read_text(encoding="utf-8")
    if LOADER_DATA not in source:
        raise RuntimeError(f"{LOADER_SOURCE} lost its {LOADER_DATA} placeholder")
    body = source.replace(LOADER_DATA, _json_for_script(data)).encode("utf-8")
    digest = hashlib.sha256(body).hexdigest()
    return Asset("widget.js", "widget.js", body, "text/javascript", digest)


def demo_script(settings: Settings) -> str:
    """The optional config an embedding page sets; the demo page shows it in use."""
    config = {
        "title": "Āwhina",
        "greeting": DEMO_GREETING,
        "labelsLanguage": "en",
        "exitUrl": settings.exit_url,
    }
    return f"window.AwhinaConfig = {_json_for_script(config)};"


async def _rasa_client(app: web.Application) -> AsyncIterator[None]:
    app[RASA_CLIENT] = ClientSession(timeout=RASA_TIMEOUT)
    yield
    await app[RASA_CLIENT].close()


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or Settings.from_env()
    app = web.Application(client_max_size=64 * 1024)
    assets = Assets()
    app[SETTINGS] = settings
    app[ASSETS] = assets
    app[LOADER] = build_loader(assets, settings)
    app[DEMO_SCRIPT] = demo_script(settings)
    app[PAGE_CSP] = page_csp(settings, [app[DEMO_SCRIPT]])
    env = aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape()
    )
    env.globals["asset"] = lambda name: "/" + assets.url(name)
    env.globals["demo_script"] = app[DEMO_SCRIPT]
    setup_routes(app)
    setup_hsds_routes(app)
    app.on_response_prepare.append(security_headers)
    app.cleanup_ctx.append(_rasa_client)
    return app


def main(host: str = "127.0.0.1", port: int = 8000) -> None:
    logging.basicConfig(level=logging.INFO)
    print(f"Chat with Āwhina at http://{host}:{port}/", flush=True)
    web.run_app(create_app(), host=host, port=port, print=None, access_log_class=AccessLogger)
