"""The escalation worker: requests nobody took move up a level, and the person is told.

``python -m bot escalator`` runs :func:`run` (a Procfile process of its own, so
escalation never depends on the inbox being up); ``python -m bot handoff
escalate`` runs :func:`run_once` once, for cron. Both move requests through
``bot.handoff.service.escalate`` and tell each person who keeps chatting with
Āwhina which organisation has their request now, through Rasa's HTTP API, once
the move is committed. Telling is best effort: the move stands if Rasa is down.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from aiohttp import ClientSession

from bot.db import session_scope
from bot.handoff import service
from bot.handoff.lifecycle import Escalated
from bot.navigator.rasa_client import RasaClient, RasaError
from bot.navigator.settings import Settings

log = logging.getLogger(__name__)
DEFAULT_EVERY_SECONDS = 60.0


def move(database_url: str, now: datetime, unclaimed_minutes: int) -> list[Escalated]:
    """Escalates in one unit of work; returns the moves once they are committed."""
    moved: list[Escalated] = []
    with session_scope(database_url) as session:
        service.escalate(session, now, moved.append, unclaimed_minutes)
    return moved


async def tell(rasa: RasaClient, moved: Escalated) -> bool:
    """Says in the person's chat who has their request now, and where help is meanwhile."""
    try:
        await rasa.set_slots(moved.conversation_id, {"navigator_org": moved.organisation})
        await rasa.execute(moved.conversation_id, "action_handoff_escalated")
    except RasaError as exc:
        log.warning("Could not tell the person about an escalated request: %s", exc)
        return False
    return True


async def run_once(settings: Settings, http: ClientSession) -> list[Escalated]:
    moved = await asyncio.to_thread(
        move, settings.database_url, settings.clock(), settings.unclaimed_minutes
    )
    if moved:
        log.info("Escalated %d request(s)", len(moved))
    rasa = RasaClient(http, settings.rasa_url, settings.rasa_token, settings.rasa_timeout_seconds)
    for request in moved:
        if request.tell_person:
            await tell(rasa, request)
    return moved


async def run(settings: Settings, every_seconds: float) -> None:
    """Escalates every ``every_seconds`` until cancelled; a failure is retried next time."""
    async with ClientSession() as http:
        while True:
            try:
                await run_once(settings, http)
            except Exception as exc:  # keep trying: the database may come back
                log.warning("Escalation failed: %s", type(exc).__name__)
            await asyncio.sleep(every_seconds)


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    settings = Settings.from_env()
    every = settings.escalate_every_seconds or DEFAULT_EVERY_SECONDS
    print(f"Escalation worker: every {every:g} s", flush=True)
    asyncio.run(run(settings, every))
