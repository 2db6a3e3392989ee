"""What the channel keeps in the database: webhooks seen and numbers opted out.

Synchronous; the channel runs these in a worker thread. A phone number is never
written to the log, not even inside a database error (its text can carry the
statement's parameters or the row's key): errors are logged by their type only.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot import clock
from bot.channels.models import SmsInbound, SmsOptOut
from bot.db import session_scope

logger = logging.getLogger(__name__)


def record_inbound(db_url: str, message_sid: str) -> bool:
    """Record a MessageSid; False if it was already recorded (a repeated webhook)."""
    try:
        with session_scope(db_url) as session:
            session.add(SmsInbound(message_sid=message_sid, received_at=clock.now()))
    except IntegrityError:
        return False
    return True


def forget_inbound(db_url: str, message_sid: str) -> None:
    """Best effort: un-record a MessageSid whose processing failed, so a retry is processed."""
    try:
        with session_scope(db_url) as session:
            row = session.get(SmsInbound, message_sid)
            if row is not None:
                session.delete(row)
    except SQLAlchemyError as error:
        logger.error("sms: could not forget MessageSid %s: %s", message_sid, type(error).__name__)


def is_opted_out(db_url: str, e164: str) -> bool:
    with session_scope(db_url) as session:
        row = session.get(SmsOptOut, e164)
        return bool(row and row.opted_out)


def set_opted_out(db_url: str, e164: str, opted_out: bool) -> None:
    for _ in range(2):  # a concurrent first insert for the same number: update it instead
        try:
            with session_scope(db_url) as session:
                row = session.get(SmsOptOut, e164)
                now = clock.now()
                if row is None:
                    session.add(SmsOptOut(phone_e164=e164, opted_out=opted_out, changed_at=now))
                else:
                    row.opted_out, row.changed_at = opted_out, now
            return
        except IntegrityError:
            continue
    raise RuntimeError("could not record the opt-out state")
