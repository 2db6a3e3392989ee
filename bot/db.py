"""One engine per process and short-lived sessions (SQLAlchemy 1.4, 2.0 style)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import cache
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import DateTime, String, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, declarative_base, sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from bot.config import database_url

Base = declarative_base()


class UtcDateTime(TypeDecorator):
    """A timezone-aware datetime stored in UTC; naive datetimes are refused.

    SQLite keeps no offset, so values are converted to UTC on the way in and
    marked UTC on the way out; PostgreSQL stores ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime: handoff times must be timezone-aware")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


P = ParamSpec("P")
T = TypeVar("T")


class casefolded(FunctionElement):
    """A text column case blind (``casefolded(column).like(...)``): SQLite's ``lower()``
    folds only ASCII letters, so "ŌTAUTAHI" would not match "ōtautahi"; there it is
    Python's ``str.casefold`` (registered by ``sqlite_pragmas``), elsewhere ``lower()``
    (PostgreSQL folds every letter in a UTF-8 database)."""

    type = String()
    name = "casefolded"
    inherit_cache = True


@compiles(casefolded)
def _lower(element: casefolded, compiler: Any, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(casefolded, "sqlite")
def _casefold(element: casefolded, compiler: Any, **kw: Any) -> str:
    return f"casefold({compiler.process(element.clauses, **kw)})"


def _casefold_text(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def sqlite_pragmas(dbapi_connection, _record) -> None:
    """Every SQLite connection of ours: foreign keys on, write-ahead log, a busy wait, and
    ``casefold()`` for ``casefolded``."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
    dbapi_connection.create_function("casefold", 1, _casefold_text, deterministic=True)


# A pooled PostgreSQL connection idle for longer than this is tested ("SELECT 1") before
# it is used; one used more recently is not: a busy action server checks out a connection
# for every database call, and the test cost a round trip each time. A connection that
# died since its last use still fails that one call, and the pool then replaces them all.
PING_AFTER_IDLE_S = 5.0
_RETURNED = "awhina_returned"  # when the connection was last returned to the pool


def postgres_session(dbapi_connection, record) -> None:
    """Every PostgreSQL connection of ours: prepared statements (``bot.directory.query``)
    run with the generic plan made when they were prepared, not planned on every call."""
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True  # a session setting, outside any transaction
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_generic_plan")
    dbapi_connection.autocommit = autocommit
    record.info[_RETURNED] = time.monotonic()


def _returned(_dbapi_connection, record) -> None:
    record.info[_RETURNED] = time.monotonic()


def _ping_when_idle(engine: Engine) -> Callable[..., None]:
    """A checkout listener: pings a connection idle for ``PING_AFTER_IDLE_S`` or more, and
    has the pool replace it if the server no longer answers on it."""

    def ping(dbapi_connection, record, _proxy) -> None:
        if time.monotonic() - record.info.get(_RETURNED, 0.0) < PING_AFTER_IDLE_S:
            return
        if not engine.dialect.do_ping(dbapi_connection):
            raise DisconnectionError("the database closed the connection")

    return ping


def get_engine(url: str | None = None) -> Engine:
    return _engine(url or database_url())


@cache
def _engine(url: str) -> Engine:
    # hide_parameters: an error's text (often logged) shows the SQL but never the values,
    # which can be a phone number, an email address or what someone wrote.
    if url.startswith("sqlite"):
        # A file database keeps its connections in a pool, as SQLAlchemy 2.0 does (1.4
        # opens one per session, and sets the pragmas again each time).
        pool = {} if ":memory:" in url or url.rstrip("/") == "sqlite:" else {"poolclass": QueuePool}
        engine = create_engine(
            url,
            future=True,
            hide_parameters=True,
            connect_args={"check_same_thread": False},
            **pool,
        )
        event.listen(engine, "connect", sqlite_pragmas)
    else:
        engine = create_engine(url, future=True, hide_parameters=True)
        event.listen(engine, "connect", postgres_session)
        event.listen(engine, "checkin", _returned)
        event.listen(engine, "checkout", _ping_when_idle(engine))
    return engine


@cache
def _session_factory(url: str) -> sessionmaker:
    return sessionmaker(bind=get_engine(url), future=True, expire_on_commit=False)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on error.

    The URL is resolved on every call, so the engine always matches the
    current ``DATABASE_URL`` (one engine per URL, never per call).
    """
    with _session_factory(url or database_url()).begin() as session:
        yield session


async def run_db(fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(session, *args, **kwargs)`` in a worker thread, in a ``session_scope`` of its own.

    For async code (the Rasa actions): the database call no longer blocks the event
    loop, so the action server keeps answering other conversations meanwhile. Return
    plain values (views, ids), not objects that load more from the session later.
    """

    def unit() -> T:
        with session_scope() as session:
            return fn(session, *args, **kwargs)

    return await asyncio.to_thread(unit)
