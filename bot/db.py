"""One engine per process and short-lived sessions (SQLAlchemy 1.4, 2.0 style)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker

from bot.config import database_url

Base = declarative_base()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def get_engine(url: str | None = None) -> Engine:
    return _engine(url or database_url())


@cache
def _engine(url: str) -> Engine:
    # hide_parameters: an error's text (often logged) shows the SQL but never the values,
    # which can be a phone number, an email address or what someone wrote.
    if url.startswith("sqlite"):
        engine = create_engine(
            url, future=True, hide_parameters=True, connect_args={"check_same_thread": False}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, future=True, hide_parameters=True, pool_pre_ping=True)
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
