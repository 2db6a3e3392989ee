"""open now as numbers: a lone schedule row kept in service_search as days and seconds

A search for services open now compared the schedule row copied into each search row
(0018) as text: two LIKEs on ``byday`` and times compared as strings, about 2 µs a row
on SQLite, over every row read until enough services are open. The row now keeps it as
numbers (``bot.directory.query.opening_numbers``): ``open_days``, a bit per day it opens
on (bit i for MO, TU... SU), and ``opens_second`` and ``closes_second``, the seconds of
the day it opens and closes, the closing counted from the day it opens (86,400 when it
closes at 23:59, "until midnight", and a day later than the time when it closes at or
before it opens, past midnight).

The numbers are worked out from the schedule rows already there, as 0018 copied them;
the downgrade copies the rows' text back the same way.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 02:00:00
"""

from datetime import time

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

TIMEZONE = "Pacific/Auckland"  # bot.config.TIMEZONE, the zone a search compares
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # bot.directory.hours.DAYS
END_OF_DAY = time(23, 59)  # an HSDS schedule row's "until midnight"
DAY_SECONDS = 24 * 60 * 60
TEXTS = (("byday", sa.String(length=32)), ("opens_at", sa.Time()), ("closes_at", sa.Time()))
NUMBERS = (
    ("open_days", sa.SmallInteger()),
    ("opens_second", sa.Integer()),
    ("closes_second", sa.Integer()),
)
BATCH = 5_000


def _alone() -> dict[str, tuple]:
    """The schedule row (days, opens, closes) of each service that has one alone with days,
    in New Zealand time, by service: what a search row keeps of its service's hours."""
    rows = op.get_bind().execute(
        sa.text(
            "SELECT service_id, byday, opens_at, closes_at, timezone FROM schedule "
            "WHERE byday IS NOT NULL"
        )
    )
    by_service: dict[str, list] = {}
    for row in rows:
        by_service.setdefault(row.service_id, []).append(row)
    return {
        service: (row.byday, _time(row.opens_at), _time(row.closes_at))
        for service, (row, *more) in by_service.items()
        if not more and row.timezone == TIMEZONE
    }


def _time(value: time | str) -> time:
    """A time as the driver gives it: SQLite's, read without the model, is text."""
    return value if isinstance(value, time) else time.fromisoformat(value)


def _days(byday: str) -> int:
    """``"MO,TU"`` or a range ``"MO-FR"`` as bits (``bot.directory.hours.parse_days``)."""
    bits = 0
    for part in byday.upper().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first:
            for day in DAYS[DAYS.index(first) : DAYS.index(last or first) + 1]:
                bits |= 1 << DAYS.index(day)
    return bits


def _second(at: time) -> int:
    return at.hour * 3600 + at.minute * 60 + at.second


def _numbers(byday: str, opens: time, closes: time) -> tuple[int, int, int]:
    """A schedule row as ``bot.directory.query.opening_numbers`` gives it at this revision."""
    if closes == END_OF_DAY:
        closing = DAY_SECONDS
    else:
        closing = _second(closes) + (DAY_SECONDS if closes <= opens else 0)
    return _days(byday), _second(opens), closing


def _fill(columns: tuple[tuple[str, sa.types.TypeEngine], ...], values: dict[str, tuple]) -> None:
    """Sets each service's search rows' ``columns`` to ``values[service_id]``."""
    table = sa.table(
        "service_search", sa.column("service_id"), *(sa.column(n, t) for n, t in columns)
    )
    # The SET clause is the columns named in the rows (SQLAlchemy's executemany update).
    statement = table.update().where(table.c.service_id == sa.bindparam("service"))
    names = [name for name, _ in columns]
    rows = [
        {"service": service, **dict(zip(names, row, strict=True))}
        for service, row in values.items()
    ]
    connection = op.get_bind()
    for start in range(0, len(rows), BATCH):
        connection.execute(statement, rows[start : start + BATCH])


def upgrade() -> None:
    for name, type_ in NUMBERS:
        op.add_column("service_search", sa.Column(name, type_, nullable=True))
    _fill(NUMBERS, {service: _numbers(*row) for service, row in _alone().items()})
    # Plain DROP COLUMN (SQLite has it since 3.35), not a batch operation, as in 0015.
    for name, _ in TEXTS:
        op.drop_column("service_search", name)


def downgrade() -> None:
    for name, type_ in TEXTS:
        op.add_column("service_search", sa.Column(name, type_, nullable=True))
    _fill(TEXTS, _alone())
    for name, _ in NUMBERS:
        op.drop_column("service_search", name)
