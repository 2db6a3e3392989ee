"""Runs the Rasa SDK action server on loopback (the stock CLI binds every interface),
with threads that retry handoff requests the database could not take, and forgets it
could not carry out yet. The data files the actions read are read, and the directory's
search statements built, before it serves."""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)


def read_data_files() -> None:
    """Reads the gazetteer, taxonomy, glossary and insight areas, which every process
    keeps once read: read at the first search instead, they made that person wait
    about half a second longer (while Rasa loads its model, they cost nobody anything)."""
    from bot.directory.places import gazetteer
    from bot.directory.taxonomy import taxonomies
    from bot.insights.demand import area_rules
    from bot.reo.glossary import default_glossary

    for read in (gazetteer, taxonomies, default_glossary, area_rules):
        read()


def warm_up_searches() -> None:
    """Builds each kind of search statement (and on PostgreSQL prepares it) before the
    first conversation needs it: 10-40 ms each otherwise, in someone's answer. A database
    that cannot answer yet is logged and left; the first searches then build them."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.db import session_scope
    from bot.directory.query import warm_up

    try:
        with session_scope() as session:
            warm_up(session)
    except SQLAlchemyError as exc:
        # Not log.exception: the error text can hold the statement's parameters.
        log.warning("search statements not built ahead (%s)", type(exc).__name__)


def main(host: str = "127.0.0.1", port: int = 5055) -> None:
    os.environ["SANIC_HOST"] = host
    from bot.config import ACTION_SERVER_KEEPALIVE_S

    # Longer than Rasa keeps an idle connection (bot/rasa_speedups.py).
    os.environ["SANIC_KEEP_ALIVE_TIMEOUT"] = str(ACTION_SERVER_KEEPALIVE_S)
    from rasa_sdk.endpoint import run

    from bot.handoff import forgetting, outbox
    from bot.handoff.routing import warn_if_sample_only

    warn_if_sample_only(log)
    read_data_files()
    warm_up_searches()
    for name, retry in (("outbox", outbox.keep_retrying), ("forget", forgetting.keep_retrying)):
        threading.Thread(
            target=retry, args=(threading.Event(),), name=f"handoff-{name}", daemon=True
        ).start()
    run("actions", port=port, cors_origins=[])
