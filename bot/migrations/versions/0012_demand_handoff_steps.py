"""demand records: whether the person asked for a navigator, and consented

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name in ("handoff_asked", "handoff_consented"):
        op.add_column(
            "insight_demand",
            sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false()),
        )


def downgrade() -> None:
    for name in ("handoff_consented", "handoff_asked"):
        op.execute(f"ALTER TABLE insight_demand DROP COLUMN {name}")
