"""service.version and service.assurer_email; curation_change.version

A coordinator's save is a compare-and-set on ``service.version`` (a stale form is
refused, not written over another coordinator's change), each audit row keeps the
version it made, and "verified with the organisation today" records who as HSDS
``assurer_email``.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28 16:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service") as batch:
        batch.add_column(sa.Column("assurer_email", sa.String(255)))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("curation_change") as batch:
        batch.add_column(sa.Column("version", sa.Integer()))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite has it since 3.35), not a batch operation: on SQLite a batch
    # copies ``service`` into a new table and drops the old one, and with foreign keys on,
    # dropping it deletes every row that references a service (locations, phones, hours).
    op.drop_column("curation_change", "version")
    op.drop_column("service", "version")
    op.drop_column("service", "assurer_email")
