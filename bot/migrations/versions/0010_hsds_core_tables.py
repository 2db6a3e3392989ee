"""HSDS core tables: contact, cost_option, program, accessibility, required_document

The tables of Open Referral HSDS 3.0 the directory lacked, so that an import keeps
them and an export gives them back (bot/directory/hsds/models.py).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 14:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ID = sa.String(length=64)


def _id() -> sa.Column:
    return sa.Column("id", ID, primary_key=True)


def _link(table: str) -> sa.Column:
    return sa.Column(
        f"{table}_id", ID, sa.ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=True
    )


# Each new table, its links (indexed but for service_at_location) and its own columns.
TABLES = {
    "contact": (
        ("organization", "service", "service_at_location", "location"),
        [
            sa.Column("name", sa.String(length=255)),
            sa.Column("title", sa.String(length=255)),
            sa.Column("department", sa.String(length=255)),
            sa.Column("email", sa.String(length=255)),
        ],
    ),
    "cost_option": (
        ("service",),
        [
            sa.Column("valid_from", sa.Date()),
            sa.Column("valid_to", sa.Date()),
            sa.Column("option", sa.Text()),
            sa.Column("currency", sa.String(length=3)),
            sa.Column("amount", sa.Numeric(12, 2)),
            sa.Column("amount_description", sa.Text()),
        ],
    ),
    "program": (
        ("organization",),
        [
            sa.Column("name", sa.String(length=255), nullable=False),
            sa.Column("alternate_name", sa.String(length=255)),
            sa.Column("description", sa.Text(), nullable=False),
        ],
    ),
    "accessibility": (
        ("location",),
        [
            sa.Column("description", sa.Text()),
            sa.Column("details", sa.Text()),
            sa.Column("url", sa.String(length=500)),
        ],
    ),
    "required_document": (
        ("service",),
        [sa.Column("document", sa.Text()), sa.Column("uri", sa.String(length=500))],
    ),
}


def upgrade() -> None:
    for table, (links, columns) in TABLES.items():
        op.create_table(table, _id(), *(_link(t) for t in links), *columns)
        for link in links:
            if link != "service_at_location":
                op.create_index(f"ix_{table}_{link}_id", table, [f"{link}_id"])


def downgrade() -> None:
    for table, (links, _) in reversed(TABLES.items()):
        for link in links:
            if link != "service_at_location":
                op.drop_index(f"ix_{table}_{link}_id", table_name=table)
        op.drop_table(table)
