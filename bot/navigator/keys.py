"""Typed keys for what the inbox keeps on its ``web.Application``.

Only keys for things defined below the inbox's modules live here; a key for a
class of the inbox's own (the session store and login limiter in ``auth``, the
live hub in ``live``) is defined beside it, since those modules use the keys
here and a module here importing them back would make a cycle.
"""

from __future__ import annotations

from aiohttp import ClientSession, web

from bot.navigator.rasa_client import RasaClient
from bot.navigator.settings import Settings

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
HTTP: web.AppKey[ClientSession] = web.AppKey("http")
RASA: web.AppKey[RasaClient] = web.AppKey("rasa")
