"""The navigators' inbox: ``init_app(settings)`` builds it, ``main`` serves it.

``python -m bot inbox`` runs it on http://127.0.0.1:8001/.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime

import aiohttp_jinja2
import jinja2
from aiohttp import ClientSession, web

from bot.config import NZ, ROOT
from bot.handoff.routing import warn_if_sample_only
from bot.navigator.auth import LIMITER, SESSIONS, LoginLimiter, auth_middleware
from bot.navigator.insights import viewer_middleware
from bot.navigator.keys import HTTP, RASA, SETTINGS
from bot.navigator.live import HUB, LiveHub
from bot.navigator.middlewares import (
    add_security_headers,
    body_limit_middleware,
    error_middleware,
)
from bot.navigator.rasa_client import RasaClient
from bot.navigator.routes import setup_routes
from bot.navigator.sessions import SessionStore
from bot.navigator.settings import DEFAULT_PORT, Settings

log = logging.getLogger(__name__)
TEMPLATES = ROOT / "bot" / "navigator" / "templates"


def nz_time(value: datetime | None) -> str:
    """A time as a navigator in Aotearoa reads it: "Tue 3 Dec, 2:05 pm"."""
    if value is None:
        return ""
    local = value.astimezone(NZ)
    hour = local.strftime("%I").lstrip("0")
    return f"{local:%a} {local.day} {local:%b}, {hour}:{local:%M} {local:%p}".replace(
        "AM", "am"
    ).replace("PM", "pm")


async def _rasa(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    app[HTTP] = ClientSession()
    app[RASA] = RasaClient(
        app[HTTP], settings.rasa_url, settings.rasa_token, settings.rasa_timeout_seconds
    )
    yield
    await app[HTTP].close()


async def _background(app: web.Application) -> AsyncIterator[None]:
    """The live hub's poll (escalation is a worker of its own: ``bot.navigator.escalator``)."""
    task = asyncio.create_task(app[HUB].run(app))
    yield
    app[HUB].close()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _close_streams(app: web.Application) -> None:
    app[HUB].close()


def init_app(settings: Settings | None = None) -> web.Application:
    settings = settings or Settings.from_env()
    if settings.rasa_token is None:
        log.warning("RASA_TOKEN is not set: the inbox can't reach Rasa's HTTP API")
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[error_middleware, body_limit_middleware, auth_middleware, viewer_middleware],
    )
    app[SETTINGS] = settings
    app[SESSIONS] = SessionStore(settings.idle_timeout, settings.absolute_timeout)
    app[LIMITER] = LoginLimiter(settings.login_max_failures, settings.login_window)
    app[HUB] = LiveHub()
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        filters={"nz_time": nz_time},
    )
    env.globals["asset"] = lambda name: str(app.router["static"].url_for(filename=name))
    setup_routes(app)
    app.on_response_prepare.append(add_security_headers)
    app.on_shutdown.append(_close_streams)
    app.cleanup_ctx.append(_rasa)
    app.cleanup_ctx.append(_background)
    return app


def main(host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
    logging.basicConfig(level=logging.INFO)
    print(f"Navigators' inbox at http://{host}:{port}/", flush=True)
    warn_if_sample_only(log)
    web.run_app(init_app(), host=host, port=port, print=None)
