"""search facets: service_search keeps a service's rows under each facet it is in

A search for an audience, or for kaupapa Māori or free services, read every row of the
place for the need through the index to find the few that match (a LIKE on the
audience list, a test of the flag), and when none did, read them all again without the
filter. Each row is now stored once per facet (``bot.directory.query.facets``: every
service ``*``, for everyone ``""`` or for an audience, each with the filters kaupapa
Māori ``k`` and free ``f`` it meets, e.g. ``"*/"``, ``"tane/kf"``), the facet in the
primary key and in both ordering indexes before the rank columns, so that each part of
a search is an index range read in rank order with a LIMIT.

A search for services open now read each candidate's schedule rows (a subquery per
row); a service with one schedule row (in New Zealand time) now has it copied into its
search rows (``byday``, ``opens_at``, ``closes_at``), compared in the row itself.

The rows are spread over the facets from the rows already there, with the schedule
rows copied in; the downgrade keeps the rows of facet ``*/`` without those columns,
which are the table as it was.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28 20:30:00
"""

from itertools import combinations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

COLUMNS = (
    "place_key",
    "need",
    "service_id",
    "locality",
    "need_rank",
    "sort_name",
    "audiences",
    "kaupapa_maori",
    "free",
    "has_contact",
    "has_hours",
    "always_open",
)
BATCH = 5_000
TIMEZONE = "Pacific/Auckland"  # bot.config.TIMEZONE, the zone a search compares


def _create(faceted: bool) -> None:
    """``service_search`` and its indexes, with the facet column or as 0016 left it."""
    key = ["place_key", "need", *(["facet"] if faceted else []), "service_id"]
    facet = ["facet"] if faceted else []
    op.create_table(
        "service_search",
        sa.Column("place_key", sa.String(length=64), nullable=False),
        sa.Column("need", sa.String(length=64), nullable=False),
        *([sa.Column("facet", sa.String(length=80), nullable=False)] if faceted else []),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("locality", sa.SmallInteger(), nullable=False),
        sa.Column("need_rank", sa.SmallInteger(), nullable=False),
        sa.Column(
            "sort_name",
            sa.Text().with_variant(sa.Text(collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("audiences", sa.String(length=255), nullable=False),
        sa.Column("kaupapa_maori", sa.Boolean(), nullable=False),
        sa.Column("free", sa.Boolean(), nullable=True),
        sa.Column("has_contact", sa.Boolean(), nullable=False),
        sa.Column("has_hours", sa.Boolean(), nullable=False),
        sa.Column("always_open", sa.Boolean(), nullable=False),
        *(
            [
                sa.Column("byday", sa.String(length=32), nullable=True),
                sa.Column("opens_at", sa.Time(), nullable=True),
                sa.Column("closes_at", sa.Time(), nullable=True),
            ]
            if faceted
            else []
        ),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint(*key),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_service_search_service_id", "service_search", ["service_id"])
    order = [*facet, "need_rank", sa.text("has_contact DESC"), "sort_name", "service_id"]
    op.create_index("ix_service_search_need_order", "service_search", ["place_key", "need", *order])
    op.create_index("ix_service_search_main_order", "service_search", ["place_key", *order])


def _facets(audiences: str, kaupapa_maori: bool, free: bool | None) -> list[str]:
    """The facets of a row, as ``bot.directory.query.facets`` gives them at this revision."""
    met = [flag for flag, value in (("k", kaupapa_maori), ("f", free)) if value]
    groups = ["*", *(sorted(filter(None, audiences.split(","))) or [""])]
    flags = ["".join(c) for size in range(len(met) + 1) for c in combinations(met, size)]
    return [f"{group}/{f}" for group in groups for f in flags]


def _rewrite(rows: list[dict], faceted: bool) -> None:
    """Replaces ``service_search`` with a table of the other shape holding ``rows``."""
    op.drop_table("service_search")
    _create(faceted)
    columns = [sa.column(name) for name in COLUMNS]
    if faceted:
        hours = _alone()
        added = ("facet", "byday", "opens_at", "closes_at")
        columns += [sa.column(name) for name in added[1:]]
        columns.append(sa.column("facet"))
        rows = [
            row | hours.get(row["service_id"], dict.fromkeys(added[1:])) | {"facet": f}
            for row in rows
            for f in _facets(row["audiences"], row["kaupapa_maori"], row["free"])
        ]
    table = sa.table("service_search", *columns)
    connection = op.get_bind()
    for start in range(0, len(rows), BATCH):
        connection.execute(table.insert(), rows[start : start + BATCH])


def _alone() -> dict[str, dict]:
    """The schedule row of each service that has one alone (with days), in New Zealand
    time, by service: "open now" reads it from the search rows."""
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
        service: {"byday": row.byday, "opens_at": row.opens_at, "closes_at": row.closes_at}
        for service, (row, *more) in by_service.items()
        if not more and row.timezone == TIMEZONE
    }


def _rows(where: str = "") -> list[dict]:
    columns = ", ".join(COLUMNS)
    result = op.get_bind().execute(sa.text(f"SELECT {columns} FROM service_search {where}"))
    return [dict(row) for row in result.mappings()]


def upgrade() -> None:
    _rewrite(_rows(), faceted=True)


def downgrade() -> None:
    _rewrite(_rows("WHERE facet = '*/'"), faceted=False)
