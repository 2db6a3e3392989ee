"""needs and gaps: anonymous demand records and the keys that count them once a week

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 14:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "insight_demand",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("area", sa.String(length=64), nullable=True),
        sa.Column("need", sa.String(length=64), nullable=True),
        sa.Column("audience", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("reo", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("handoff", sa.Boolean(), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("tally", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('local', 'regional', 'national', 'nothing', 'no_place')",
            name="ck_insight_demand_outcome",
        ),
        sa.UniqueConstraint("tally", name="uq_insight_demand_tally"),
    )
    op.create_index("ix_insight_demand_week", "insight_demand", ["week"])
    op.create_table(
        "insight_week_key",
        sa.Column("week", sa.Date(), primary_key=True),
        sa.Column("key", sa.String(length=64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("insight_week_key")
    op.drop_index("ix_insight_demand_week", table_name="insight_demand")
    op.drop_table("insight_demand")
