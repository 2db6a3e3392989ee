"""handoff lifecycle: when a request closed, whether a navigator is live, erasable free text

Adds ``closed_at`` (the transcript a navigator sees ends there), ``live_since``
(a navigator is chatting live) and ``content_key`` (the per-request key that
seals notes and live messages; see bot/handoff/sealed.py), fills them from the
event log, and seals the free text already stored. A request already forgotten
gets no key, so its old notes become unreadable, as forgetting now promises.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 14:00:00
"""

import importlib.util
import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op

from bot.handoff import sealed

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = (
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("live_since", sa.DateTime(timezone=True), nullable=True),
    sa.Column("content_key", sa.String(length=64), nullable=True),
)
CLOSED_AT = (
    "UPDATE handoff_request SET closed_at = (SELECT max(e.at) FROM handoff_event e "
    "WHERE e.request_id = handoff_request.id AND e.kind = 'closed') WHERE status = 'closed'"
)
LAST_LIVE = (
    "(SELECT e.{column} FROM handoff_event e WHERE e.request_id = handoff_request.id "
    "AND e.kind IN ('live_started', 'live_ended') ORDER BY e.id DESC LIMIT 1)"
)
LIVE_SINCE = (
    f"UPDATE handoff_request SET live_since = {LAST_LIVE.format(column='at')} "
    f"WHERE {LAST_LIVE.format(column='kind')} = 'live_started'"
)
FREE_TEXT = sa.text(
    "SELECT e.id, e.request_id, e.detail, r.content_key FROM handoff_event e "
    "JOIN handoff_request r ON r.id = e.request_id WHERE e.kind IN ('note', 'message')"
)
SET_DETAIL = sa.text("UPDATE handoff_event SET detail = :detail WHERE id = :id")


def _append_only() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The triggers of 0003 that refuse changes to events, to lift them while text is sealed."""
    path = Path(__file__).with_name("0003_handoff.py")
    spec = importlib.util.spec_from_file_location("handoff_0003", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.APPEND_ONLY, module.DROP_APPEND_ONLY


def _rewrite_free_text(convert) -> None:
    """Rewrites each note's and message's detail with ``convert(detail, request_id, key)``."""
    bind = op.get_bind()
    create, drop = _append_only()
    for statement in drop.get(bind.dialect.name, []):
        op.execute(statement)
    for event_id, request_id, raw, key in bind.execute(FREE_TEXT).all():
        detail = convert(json.loads(raw or "{}"), request_id, key)
        bind.execute(SET_DETAIL, {"id": event_id, "detail": json.dumps(detail, sort_keys=True)})
    for statement in create.get(bind.dialect.name, []):
        op.execute(statement)


def _seal(detail: dict, request_id: str, key: str | None) -> dict:
    if "text" not in detail:
        return detail
    rest = {k: v for k, v in detail.items() if k != "text"}
    # A forgotten request has no key: its text is sealed with one that is thrown away.
    return {**rest, "sealed": sealed.seal(key or sealed.new_key(), request_id, detail["text"])}


def _unseal(detail: dict, request_id: str, key: str | None) -> dict:
    if "sealed" not in detail:
        return detail
    rest = {k: v for k, v in detail.items() if k != "sealed"}
    text = sealed.unseal(key, request_id, detail["sealed"])
    return rest if text is None else {**rest, "text": text}


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("handoff_request", column.copy())
    op.execute(CLOSED_AT)
    op.execute(LIVE_SINCE)
    bind = op.get_bind()
    unforgotten = bind.execute(
        sa.text("SELECT id FROM handoff_request WHERE forgotten_at IS NULL")
    ).all()
    for (request_id,) in unforgotten:
        bind.execute(
            sa.text("UPDATE handoff_request SET content_key = :key WHERE id = :id"),
            {"key": sealed.new_key(), "id": request_id},
        )
    _rewrite_free_text(_seal)


def downgrade() -> None:
    _rewrite_free_text(_unseal)
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch copy of handoff_request would
    # have to drop the table its events refer to, which the foreign keys refuse.
    for column in reversed(COLUMNS):
        op.execute(f"ALTER TABLE handoff_request DROP COLUMN {column.name}")
