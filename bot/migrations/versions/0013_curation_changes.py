"""curation_change: the audit log of coordinators' edits to services

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 15:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "curation_change",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "service_id",
            sa.String(64),
            sa.ForeignKey("service.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("navigator_id", sa.String(64), nullable=False),
        sa.Column("navigator_name", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
    )
    op.create_index("ix_curation_change_service_id", "curation_change", ["service_id"])


def downgrade() -> None:
    op.drop_index("ix_curation_change_service_id", table_name="curation_change")
    op.drop_table("curation_change")
