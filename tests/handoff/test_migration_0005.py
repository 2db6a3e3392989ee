"""Migration 0005: free text already stored is sealed with a key per request; a request
already forgotten gets none, so its old notes become unreadable; downgrade unseals."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select, text

from bot.db import session_scope
from bot.handoff.models import HandoffEvent, HandoffRequest
from bot.handoff.service import add_note, event_text
from bot.migrate import alembic_config
from tests.handoff.conftest import NOW, make_request, nav

KEPT, LOST = "Rang her at 3, she is keen", "Her partner answered; call her work instead"


def _details(url: str) -> str:
    with session_scope(url) as session:
        return " ".join(session.execute(select(HandoffEvent.detail)).scalars())


def test_upgrade_seals_old_notes_and_downgrade_unseals_them(url, navs):
    kept = make_request(url, navs, "claimed", key="kept", conversation_id="conv-kept")
    lost = make_request(url, navs, "claimed", key="lost", conversation_id="conv-lost")
    with session_scope(url) as session:
        grey = nav(session, navs, "grey")
        add_note(session, grey, kept, KEPT, now=NOW)
        add_note(session, grey, lost, LOST, now=NOW)
    config = alembic_config(url)
    command.downgrade(config, "0004")
    assert KEPT in _details(url) and LOST in _details(url)  # as 0004 stored notes
    with session_scope(url) as session:
        session.execute(
            text("UPDATE handoff_request SET forgotten_at = updated_at WHERE id = :id"),
            {"id": lost},
        )
    command.upgrade(config, "head")
    assert KEPT not in _details(url) and LOST not in _details(url)
    with session_scope(url) as session:
        for request_id, expected in ((kept, KEPT), (lost, None)):
            request = session.get(HandoffRequest, request_id)
            note = session.execute(
                select(HandoffEvent).where(
                    HandoffEvent.request_id == request_id, HandoffEvent.kind == "note"
                )
            ).scalar_one()
            assert event_text(request, note) == expected
        assert session.get(HandoffRequest, lost).content_key is None
