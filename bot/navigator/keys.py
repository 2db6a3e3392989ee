"""Typed keys for what the inbox keeps on its ``web.Application``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import ClientSession, web

if TYPE_CHECKING:
    from bot.navigator.auth import LoginLimiter, SessionStore
    from bot.navigator.live import LiveHub
    from bot.navigator.rasa_client import RasaClient
    from bot.navigator.settings import Settings

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
SESSIONS: web.AppKey[SessionStore] = web.AppKey("sessions")
LIMITER: web.AppKey[LoginLimiter] = web.AppKey("limiter")
HUB: web.AppKey[LiveHub] = web.AppKey("hub")
HTTP: web.AppKey[ClientSession] = web.AppKey("http")
RASA: web.AppKey[RasaClient] = web.AppKey("rasa")
