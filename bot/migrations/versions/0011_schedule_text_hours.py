"""schedule: hours given only as text (HSDS schedule.description, no days or times)

A source may publish opening hours only as words ("by appointment"); HSDS keeps them
in ``schedule.description``, so ``byday``, ``opens_at`` and ``closes_at`` may be empty.
Downgrading refuses while such a row exists rather than drop what a source published.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 14:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COLUMNS = (("byday", sa.String(length=32)), ("opens_at", sa.Time()), ("closes_at", sa.Time()))


def _nullable(nullable: bool) -> None:
    with op.batch_alter_table("schedule") as batch:
        for name, type_ in COLUMNS:
            batch.alter_column(name, existing_type=type_, nullable=nullable)


def upgrade() -> None:
    _nullable(True)


def downgrade() -> None:
    text_only = op.get_bind().execute(
        sa.text("SELECT COUNT(*) FROM schedule WHERE byday IS NULL OR opens_at IS NULL")
    )
    if text_only.scalar():
        raise RuntimeError("schedule rows hold hours given only as text; remove them first")
    _nullable(False)
