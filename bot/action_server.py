"""Runs the Rasa SDK action server on loopback (the stock CLI binds every interface),
with threads that retry handoff requests the database could not take, and forgets it
could not carry out yet."""

from __future__ import annotations

import logging
import os
import threading


def main(host: str = "127.0.0.1", port: int = 5055) -> None:
    os.environ["SANIC_HOST"] = host
    from rasa_sdk.endpoint import run

    from bot.handoff import forgetting, outbox
    from bot.handoff.routing import warn_if_sample_only

    warn_if_sample_only(logging.getLogger(__name__))
    for name, retry in (("outbox", outbox.keep_retrying), ("forget", forgetting.keep_retrying)):
        threading.Thread(
            target=retry, args=(threading.Event(),), name=f"handoff-{name}", daemon=True
        ).start()
    run("actions", port=port, cors_origins=[])
