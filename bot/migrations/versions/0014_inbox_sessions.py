"""inbox_session: navigators' sign-in sessions in the database (bot/navigator/sessions.py),
so that every inbox replica and a restart share them

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 16:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_session",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column(
            "navigator_id",
            sa.String(64),
            sa.ForeignKey("navigator.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flashes", sa.Text(), nullable=False),
    )
    op.create_index("ix_inbox_session_navigator_id", "inbox_session", ["navigator_id"])
    op.create_index("ix_inbox_session_last_seen", "inbox_session", ["last_seen"])


def downgrade() -> None:
    op.drop_index("ix_inbox_session_last_seen", table_name="inbox_session")
    op.drop_index("ix_inbox_session_navigator_id", table_name="inbox_session")
    op.drop_table("inbox_session")
