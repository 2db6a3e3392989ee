"""navigator roles: navigator, coordinator (also the insights page), viewer (only that)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 14:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "navigator",
        sa.Column("role", sa.String(length=16), nullable=False, server_default="navigator"),
    )


def downgrade() -> None:
    # Plain ALTER TABLE on SQLite too (3.35+): a batch copy of navigator would have
    # to drop a table that requests' foreign keys point at (see 0005).
    op.execute("ALTER TABLE navigator DROP COLUMN role")
