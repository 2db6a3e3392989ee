"""Runs the Rasa SDK action server on loopback (the stock CLI binds every interface),
with a thread that retries handoff requests the database could not take."""

from __future__ import annotations

import logging
import os
import threading


def main(host: str = "127.0.0.1", port: int = 5055) -> None:
    os.environ["SANIC_HOST"] = host
    from rasa_sdk.endpoint import run

    from bot.handoff.outbox import keep_retrying
    from bot.handoff.routing import warn_if_sample_only

    warn_if_sample_only(logging.getLogger(__name__))
    threading.Thread(
        target=keep_retrying, args=(threading.Event(),), name="handoff-outbox", daemon=True
    ).start()
    run("actions", port=port, cors_origins=[])
