"""handoff outcomes that show gaps: no suitable local service, no capacity, unreachable

Widens the CHECK on ``handoff_request.outcome``. PostgreSQL drops and adds the
constraint. SQLite cannot alter a CHECK, and copying the table (Alembic's batch
mode) fails under its events' foreign keys (see 0005), so the table's recorded
definition is edited in place, the procedure SQLite documents for removing CHECK
constraints (https://www.sqlite.org/lang_altertable.html, "making other kinds of
table schema changes"): every stored row met the narrower CHECK, so it meets the
wider one. Downgrading turns the new outcomes into "other".

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 14:35:00
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NAME = "ck_handoff_request_outcome"
BEFORE = ("connected", "referred", "no_response", "declined", "duplicate", "other")
AFTER = (*BEFORE, "no_local_service", "no_capacity", "unreachable")


def _check(outcomes: tuple[str, ...]) -> str:
    return f"outcome IS NULL OR outcome IN ({', '.join(repr(o) for o in outcomes)})"


def _sqlite_check(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    bind = op.get_bind()
    find = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'handoff_request'"
    sql = bind.exec_driver_sql(find).scalar()
    if _check(old) not in sql:
        raise RuntimeError(f"handoff_request's {NAME} is not the one this migration replaces")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'handoff_request'",
        (sql.replace(_check(old), _check(new)),),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    if bind.exec_driver_sql("PRAGMA integrity_check").scalar() != "ok":
        raise RuntimeError("handoff_request failed SQLite's integrity check after the change")


def _replace(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_check(old, new)
        return
    op.drop_constraint(NAME, "handoff_request", type_="check")
    op.create_check_constraint(NAME, "handoff_request", _check(new))


def upgrade() -> None:
    _replace(BEFORE, AFTER)


def downgrade() -> None:
    # The old codes cannot say these: they become "other" (the event log keeps the code).
    op.execute(
        "UPDATE handoff_request SET outcome = 'other' "
        "WHERE outcome IN ('no_local_service', 'no_capacity', 'unreachable')"
    )
    _replace(AFTER, BEFORE)
