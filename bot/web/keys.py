"""Typed keys for what the web app keeps on ``web.Application``."""

from __future__ import annotations

from aiohttp import ClientSession, web

from bot.web.assets import Asset, Assets
from bot.web.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
ASSETS = web.AppKey("assets", Assets)
LOADER = web.AppKey("loader", Asset)
RASA_CLIENT = web.AppKey("rasa_client", ClientSession)
PAGE_CSP = web.AppKey("page_csp", str)
DEMO_SCRIPT = web.AppKey("demo_script", str)
