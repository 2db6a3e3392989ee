"""search indexes: service_search and service_words, derived from the directory records

Search filters and ranks in SQL on ``service_search`` (one row per service, place and
need), and a follow-up finds a service named in a message through the indexed
``service_words.name_key``. A directory loaded before this revision is indexed here.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 13:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_search",
        sa.Column("place_key", sa.String(length=64), nullable=False),
        sa.Column("need", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("locality", sa.SmallInteger(), nullable=False),
        sa.Column("need_rank", sa.SmallInteger(), nullable=False),
        sa.Column("sort_name", sa.Text(), nullable=False),
        sa.Column("audiences", sa.String(length=255), nullable=False),
        sa.Column("kaupapa_maori", sa.Boolean(), nullable=False),
        sa.Column("free", sa.Boolean(), nullable=True),
        sa.Column("has_contact", sa.Boolean(), nullable=False),
        sa.Column("has_hours", sa.Boolean(), nullable=False),
        sa.Column("always_open", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("place_key", "need", "service_id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_service_search_service_id", "service_search", ["service_id"])
    op.create_table(
        "service_words",
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("name_key", sa.String(length=512), nullable=False),
        sa.Column("alternate_key", sa.String(length=512), nullable=True),
        sa.Column("words", sa.SmallInteger(), nullable=False),
        sa.Column("text_key", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("service_id"),
    )
    op.create_index("ix_service_words_name_key", "service_words", ["name_key"])
    op.create_index(
        "ix_service_words_alternate_key",
        "service_words",
        ["alternate_key"],
        sqlite_where=sa.text("alternate_key IS NOT NULL"),
        postgresql_where=sa.text("alternate_key IS NOT NULL"),
    )
    op.create_index("ix_service_words_words", "service_words", ["words"])
    # Loading a service whole reads its locations and their addresses by these.
    op.create_index("ix_service_at_location_service_id", "service_at_location", ["service_id"])
    op.create_index("ix_address_location_id", "address", ["location_id"])
    # The loader's own derivation (reading only columns that exist at this revision),
    # a row per service, place and need as the table is here (0018 adds the facets).
    from bot.directory.seed import index_services

    index_services(op.get_bind(), faceted=False)


def downgrade() -> None:
    op.drop_index("ix_address_location_id", "address")
    op.drop_index("ix_service_at_location_service_id", "service_at_location")
    op.drop_table("service_words")
    op.drop_table("service_search")
