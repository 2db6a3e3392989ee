"""Handoff requests the database could not take yet, kept on disk and retried.

When the database is unreachable the action still has the person's consented
request; it is written here (one file per idempotency key, readable only by
this user) and submitted by :func:`flush`, which the action server runs every
half minute and before each new submission. ``submit`` is idempotent, so a
request that did reach the database before a crash is never stored twice.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import threading
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.config import VAR_DIR
from bot.db import session_scope
from bot.handoff import HandoffError
from bot.handoff.service import HandoffDraft, submit

log = logging.getLogger(__name__)
OUTBOX_DIR = VAR_DIR / "handoff-outbox"
RETRY_SECONDS = 30.0


def _dir(directory: Path | None) -> Path:
    """The given directory, else ``OUTBOX_DIR`` as it is now (tests point it elsewhere)."""
    return directory or OUTBOX_DIR


def _path(key: str, directory: Path) -> Path:
    return directory / f"{hashlib.sha256(key.encode()).hexdigest()}.json"


def keep(draft: HandoffDraft, key: str, directory: Path | None = None) -> Path:
    """Writes the request atomically; the file holds contact details, so mode 0600."""
    directory = _dir(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = _path(key, directory)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"key": key, "draft": dataclasses.asdict(draft)}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    return path


def pending(directory: Path | None = None) -> list[Path]:
    directory = _dir(directory)
    return sorted(directory.glob("*.json")) if directory.exists() else []


def flush(url: str | None = None, directory: Path | None = None) -> int:
    """Submits every kept request; stops at the first database error. Returns how many went."""
    sent = 0
    for path in pending(directory):
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue  # another process submitted it meanwhile
        try:
            kept = json.loads(text)
            draft = HandoffDraft(**kept["draft"])
            with session_scope(url) as session:
                submit(session, draft, kept["key"])
        except SQLAlchemyError:
            log.warning(
                "database still unreachable; %d handoff request(s) kept", len(pending(directory))
            )
            return sent
        except (HandoffError, KeyError, TypeError, ValueError):
            bad = path.with_suffix(".invalid")
            path.replace(bad)
            log.error("a kept handoff request could not be submitted; moved to %s", bad.name)
            continue
        path.unlink(missing_ok=True)
        sent += 1
    if sent:
        log.info("submitted %d kept handoff request(s)", sent)
    return sent


def keep_retrying(
    stop: threading.Event,
    interval: float = RETRY_SECONDS,
    url: str | None = None,
    directory: Path | None = None,
) -> None:
    """Flushes every ``interval`` seconds until ``stop`` is set (the action server's thread)."""
    while not stop.wait(interval):
        try:
            flush(url, directory)
        except OSError as exc:  # a full or read-only disk must not end the retries
            log.error("could not read the handoff outbox: %s", type(exc).__name__)


def forget(conversation_id: str, directory: Path | None = None) -> int:
    """Deletes kept requests of a conversation ("forget me" must reach them too)."""
    removed = 0
    for path in pending(directory):
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            continue
        if kept.get("draft", {}).get("conversation_id") == conversation_id:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
