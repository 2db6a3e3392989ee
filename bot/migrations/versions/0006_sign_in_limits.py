"""sign-in limits: failed sign-ins counted in the database (bot/navigator/limits.py)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 14:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_limit",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("sign_in_limit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_limit_last_at"), ["last_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sign_in_limit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_limit_last_at"))
    op.drop_table("sign_in_limit")
