"""hsds ids: organization, service and service_at_location keep their HSDS id, indexed

The HSDS API publishes each record under its HSDS id (``bot.directory.hsds.ids``, a
UUID derived from ours) and is asked for a record by it: kept in a unique indexed
column, written with the record (the models' default), a request finds the one record
instead of deriving the id of every record. Records loaded before this revision get
theirs here.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28 17:15:00
"""

import sqlalchemy as sa
from alembic import op

from bot.directory.hsds.ids import hsds_id

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TABLES = ("organization", "service", "service_at_location")
BATCH = 5_000


def upgrade() -> None:
    connection = op.get_bind()
    for table in TABLES:
        op.add_column(table, sa.Column("hsds_id", sa.String(length=36), nullable=True))
        ids = connection.execute(sa.text(f"SELECT id FROM {table}")).scalars().all()
        for start in range(0, len(ids), BATCH):
            connection.execute(
                sa.text(f"UPDATE {table} SET hsds_id = :hsds WHERE id = :id"),
                [{"hsds": hsds_id(table, i), "id": i} for i in ids[start : start + BATCH]],
            )
        op.create_index(f"ix_{table}_hsds_id", table, ["hsds_id"], unique=True)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_index(f"ix_{table}_hsds_id", table)
        # Not batch mode: recreating the table on SQLite would delete the rows that
        # reference it (ON DELETE CASCADE). SQLite drops a column itself since 3.35.
        op.drop_column(table, "hsds_id")
