"""The lifecycle table itself: who may make which move, and the README's copy of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from bot.config import ROOT
from bot.handoff import HandoffError, InvalidTransition
from bot.handoff.lifecycle import (
    MOVES,
    OPERATIONS,
    allowed,
    available,
    check,
    markdown_table,
    refusal,
)
from bot.handoff.models import STATUSES

AT = datetime(2026, 12, 1, tzinfo=timezone.utc)


@dataclass
class Request:
    status: str
    claimed_by: str | None = None
    contact_method: str = "chat"
    forgotten_at: datetime | None = None
    live_since: datetime | None = None


@dataclass
class Navigator:
    id: str


HOLDER, OTHER = Navigator("holder"), Navigator("other")


def test_the_readme_shows_the_table():
    assert markdown_table() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_status_is_reachable_and_every_move_ends_in_a_status():
    assert {move.after for move in MOVES.values()} - {None} <= set(STATUSES)
    assert {status for _, status in MOVES} == set(STATUSES)


@pytest.mark.parametrize("status", STATUSES)
def test_what_the_holder_another_navigator_and_the_system_may_do(status):
    held = Request(status, claimed_by="holder" if status in ("claimed", "in_contact") else None)
    mine = available(held, HOLDER)
    theirs = available(held, OTHER)
    system = available(held, None)
    assert theirs <= mine  # holding a request never takes a right away
    assert not (mine | theirs) & {"escalate", "forget"}  # not a navigator's to do
    assert system <= {"escalate", "forget"}
    if status == "new":
        assert {"claim", "close", "note"} <= theirs and "escalate" in system
    if status == "claimed":
        assert {"release", "in_contact", "close", "live_start"} <= mine - theirs
    if status == "closed":
        assert mine == theirs == {"note"}


def test_the_conditions_refuse_with_a_reason():
    live = Request("claimed", claimed_by="holder", live_since=AT)
    assert refusal("close", live, HOLDER) == "cannot close this request: end the live chat first"
    assert "join the conversation first" in refusal("message", Request("claimed", "holder"), HOLDER)
    assert allowed("message", live, HOLDER) and allowed("live_end", live, OTHER)
    by_phone = Request("claimed", claimed_by="holder", contact_method="call")
    assert not allowed("live_start", by_phone, HOLDER)
    forgotten = Request("new", forgotten_at=AT)
    assert not allowed("claim", forgotten, HOLDER) and allowed("close", forgotten, HOLDER)
    assert refusal("claim", Request("claimed", "other"), HOLDER) == (
        "another navigator has already claimed this request"
    )
    with pytest.raises(InvalidTransition):
        check("escalate", Request("new"), HOLDER)
    with pytest.raises(HandoffError):
        allowed("steal", Request("new"), HOLDER)
    assert set(OPERATIONS) == {operation for operation, _ in MOVES}
