"""search order: service_search read in rank order through two composite indexes

A search reads, for each place asked, the rows of the need (and of "general") already
in the order it ranks them (main need before also, contact before none, name, id), so
it stops after the rows it shows instead of sorting every row of the place. On
PostgreSQL ``sort_name`` takes the "C" collation, the order a search ranks names in
(Python's, by code point), so that its index gives that order.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28 16:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute('ALTER TABLE service_search ALTER COLUMN sort_name TYPE text COLLATE "C"')
    op.create_index(
        "ix_service_search_need_order",
        "service_search",
        ["place_key", "need", "need_rank", sa.text("has_contact DESC"), "sort_name", "service_id"],
    )
    op.create_index(
        "ix_service_search_main_order",
        "service_search",
        ["place_key", "need_rank", sa.text("has_contact DESC"), "sort_name", "service_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_service_search_main_order", "service_search")
    op.drop_index("ix_service_search_need_order", "service_search")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE service_search ALTER COLUMN sort_name TYPE text")
