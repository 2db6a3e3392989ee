"""'Forget me', all of it or queued until it can be: handoff requests and kept outbox files.

The person's wish is written down first (one small file per conversation, like
the outbox, readable only by this user), then carried out: the conversation's
handoff requests are scrubbed in one unit of work and its outbox files deleted.
Only when both are done is the note removed. If the database is unreachable,
the note stays and :func:`retry` (the action server's retry thread) finishes
the job later, so a failure never leaves the name and number behind for good.
The conversation itself lives in Rasa's tracker store, which deletes it once
the forget action has answered (``bot/privacy.py``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot import clock
from bot.config import VAR_DIR
from bot.db import session_scope
from bot.handoff import outbox
from bot.handoff.service import forget_conversation

log = logging.getLogger(__name__)
FORGET_DIR = VAR_DIR / "handoff-forget"
RETRY_SECONDS = 30.0


def _dir(directory: Path | None) -> Path:
    """The given directory, else ``FORGET_DIR`` as it is now (tests point it elsewhere)."""
    return directory or FORGET_DIR


def _path(conversation_id: str, directory: Path) -> Path:
    return directory / f"{hashlib.sha256(conversation_id.encode()).hexdigest()}.json"


def _note(conversation_id: str, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = _path(conversation_id, directory)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"conversation_id": conversation_id}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    return path


def _carry_out(conversation_id: str, now: datetime, url: str | None) -> int:
    with session_scope(url) as session:
        count = forget_conversation(session, conversation_id, now)
    outbox.forget(conversation_id)
    return count


def forget(
    conversation_id: str, now: datetime, url: str | None = None, directory: Path | None = None
) -> bool:
    """True when everything is forgotten now; False when it is queued for :func:`retry`."""
    path = _note(conversation_id, _dir(directory))
    try:
        _carry_out(conversation_id, now, url)
    except (SQLAlchemyError, OSError) as exc:
        log.warning("could not forget a conversation yet (%s); queued", type(exc).__name__)
        return False
    path.unlink(missing_ok=True)
    return True


def pending(directory: Path | None = None) -> list[Path]:
    directory = _dir(directory)
    return sorted(directory.glob("*.json")) if directory.exists() else []


def retry(url: str | None = None, directory: Path | None = None) -> int:
    """Carries out every queued forget; stops at the first database error. Returns how many."""
    done = 0
    for path in pending(directory):
        try:
            conversation_id = json.loads(path.read_text(encoding="utf-8"))["conversation_id"]
        except FileNotFoundError:
            continue  # carried out by another process meanwhile
        except (OSError, ValueError, KeyError, TypeError):
            log.error("a queued forget can't be read: %s (kept for a person to look at)", path.name)
            continue
        try:
            _carry_out(conversation_id, clock.now(), url)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("queued forgets still waiting (%s)", type(exc).__name__)
            return done
        path.unlink(missing_ok=True)
        done += 1
    if done:
        log.info("carried out %d queued forget(s)", done)
    return done


def keep_retrying(stop: threading.Event, interval: float = RETRY_SECONDS) -> None:
    """Retries every ``interval`` seconds until ``stop`` is set (the action server's thread)."""
    while not stop.wait(interval):
        retry()
