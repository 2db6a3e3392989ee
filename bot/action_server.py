"""Runs the Rasa SDK action server on loopback (the stock CLI binds every interface),
with threads that retry handoff requests the database could not take, and forgets it
could not carry out yet. The data files the actions read are read before it serves."""

from __future__ import annotations

import logging
import os
import threading


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


def main(host: str = "127.0.0.1", port: int = 5055) -> None:
    os.environ["SANIC_HOST"] = host
    from bot.config import ACTION_SERVER_KEEPALIVE_S

    # Longer than Rasa keeps an idle connection (bot/rasa_speedups.py).
    os.environ["SANIC_KEEP_ALIVE_TIMEOUT"] = str(ACTION_SERVER_KEEPALIVE_S)
    from rasa_sdk.endpoint import run

    from bot.handoff import forgetting, outbox
    from bot.handoff.routing import warn_if_sample_only

    warn_if_sample_only(logging.getLogger(__name__))
    read_data_files()
    for name, retry in (("outbox", outbox.keep_retrying), ("forget", forgetting.keep_retrying)):
        threading.Thread(
            target=retry, args=(threading.Event(),), name=f"handoff-{name}", daemon=True
        ).start()
    run("actions", port=port, cors_origins=[])
