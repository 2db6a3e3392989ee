"""Runs the Rasa SDK action server on loopback (the stock CLI binds every interface)."""

from __future__ import annotations

import os


def main(host: str = "127.0.0.1", port: int = 5055) -> None:
    os.environ["SANIC_HOST"] = host
    from rasa_sdk.endpoint import run

    run("actions", port=port, cors_origins=[])
