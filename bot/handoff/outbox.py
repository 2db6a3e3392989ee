"""Handoff requests the database could not take yet, kept on disk and retried.

When the database is unreachable the action still has the person's consented
request; it is written here (one file per idempotency key, readable only by
this user) and submitted by :func:`flush`, which the action server's retry
thread runs every half minute. ``submit`` is idempotent, so a request that did
reach the database before a crash is never stored twice.

A failure that can pass (the database is down, no navigator team is loaded
yet) leaves the file for the next try; one that never will (the file is
garbled, the request is not valid) sets it aside as ``.invalid`` for an
operator. A file's name begins with a hash of its conversation's id, so
"forget me" and retention reach every file, set aside or half-written
(``.tmp``) included, without having to read it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import threading
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.config import VAR_DIR
from bot.db import session_scope
from bot.handoff import HandoffError
from bot.handoff.routing import NoTeam
from bot.handoff.service import HandoffDraft, submit

log = logging.getLogger(__name__)
OUTBOX_DIR = VAR_DIR / "handoff-outbox"
RETRY_SECONDS = 30.0
KEPT, SET_ASIDE, WRITING = ".json", ".invalid", ".tmp"


def _dir(directory: Path | None) -> Path:
    """The given directory, else ``OUTBOX_DIR`` as it is now (tests point it elsewhere)."""
    return directory or OUTBOX_DIR


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def conversation_tag(conversation_id: str) -> str:
    """The start of the name of every file of this conversation (no id in clear on disk)."""
    return _sha256(f"conversation:{conversation_id}")[:16]


def file_name(draft: HandoffDraft, key: str, suffix: str = KEPT) -> str:
    return f"{conversation_tag(draft.conversation_id)}-{_sha256(key)}{suffix}"


def keep(draft: HandoffDraft, key: str, directory: Path | None = None) -> Path:
    """Writes the request atomically; the file holds contact details, so mode 0600."""
    directory = _dir(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / file_name(draft, key)
    tmp = path.with_suffix(WRITING)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"key": key, "draft": dataclasses.asdict(draft)}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    return path


def discard(draft: HandoffDraft, key: str, directory: Path | None = None) -> None:
    """Removes a kept request that has just reached the database another way."""
    (_dir(directory) / file_name(draft, key)).unlink(missing_ok=True)


def pending(directory: Path | None = None) -> list[Path]:
    directory = _dir(directory)
    return sorted(directory.glob(f"*{KEPT}")) if directory.exists() else []


def _every_file(directory: Path | None) -> list[Path]:
    directory = _dir(directory)
    return sorted(p for p in directory.iterdir() if p.is_file()) if directory.exists() else []


def flush(url: str | None = None, directory: Path | None = None) -> int:
    """Submits every kept request; stops at the first database error. Returns how many went.

    Only the retry thread calls this: it walks everyone's requests, so a person's
    own request never waits for it.
    """
    sent = waiting = 0
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
        except NoTeam:
            waiting += 1
            continue
        except (HandoffError, KeyError, TypeError, ValueError):
            bad = path.with_suffix(SET_ASIDE)
            path.replace(bad)
            log.error("a kept handoff request can never be submitted; moved to %s", bad.name)
            continue
        path.unlink(missing_ok=True)
        sent += 1
    if waiting:
        log.warning("no navigator team is loaded; %d handoff request(s) kept", waiting)
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


def _conversation_in(path: Path) -> str | None:
    """The conversation a file from before names carried it belongs to, if it can be read."""
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        return kept["draft"]["conversation_id"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def forget(conversation_id: str, directory: Path | None = None) -> int:
    """Deletes every file of a conversation, kept, set aside or half-written ("forget me")."""
    tag = f"{conversation_tag(conversation_id)}-"
    removed = 0
    for path in _every_file(directory):
        if path.name.startswith(tag) or (
            "-" not in path.name and _conversation_in(path) == conversation_id
        ):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def apply_retention(now: datetime, days: int, directory: Path | None = None) -> int:
    """Deletes every file last written more than ``days`` before ``now``, of any kind."""
    cutoff = (now - timedelta(days=days)).timestamp()
    removed = 0
    for path in _every_file(directory):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    if removed:
        log.info("retention (%d days): deleted %d handoff outbox file(s)", days, removed)
    return removed
