"""State changes, who may make them, what a navigator sees, and the append-only event log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from bot.db import session_scope
from bot.handoff import HandoffError, InvalidTransition, NotFound
from bot.handoff.models import AppendOnlyError, HandoffEvent, HandoffRequest
from bot.handoff.service import (
    add_note,
    claim,
    close,
    end_live,
    event_text,
    events,
    get_request,
    is_live,
    mark_in_contact,
    record_message,
    release,
    start_live,
    submit,
    visible_requests,
)
from tests.handoff.conftest import DRAFT, NOW, make_request, nav, snapshot

ACTIONS: dict[str, Callable] = {
    "claim": lambda s, n, r: claim(s, n, r, now=NOW),
    "release": lambda s, n, r: release(s, n, r, now=NOW),
    "mark_in_contact": lambda s, n, r: mark_in_contact(s, n, r, now=NOW),
    "close": lambda s, n, r: close(s, n, r, "connected", now=NOW),
}
EVENT_KIND = {
    "claim": "claimed",
    "release": "released",
    "mark_in_contact": "in_contact",
    "close": "closed",
}
# (action, status before) -> status after, for the navigator holding the request
# (or any navigator of the organisation while it is new); None = refused.
RESULT = {
    ("claim", "new"): "claimed",
    ("claim", "claimed"): None,
    ("claim", "in_contact"): None,
    ("claim", "closed"): None,
    ("release", "new"): None,
    ("release", "claimed"): "new",
    ("release", "in_contact"): None,
    ("release", "closed"): None,
    ("mark_in_contact", "new"): None,
    ("mark_in_contact", "claimed"): "in_contact",
    ("mark_in_contact", "in_contact"): None,
    ("mark_in_contact", "closed"): None,
    ("close", "new"): "closed",
    ("close", "claimed"): "closed",
    ("close", "in_contact"): "closed",
    ("close", "closed"): None,
}


@pytest.mark.parametrize("action, status", sorted(RESULT))
def test_every_transition_is_allowed_or_refused(url, navs, action, status):
    request_id = make_request(url, navs, status)
    before = snapshot(url)
    expected = RESULT[(action, status)]
    with session_scope(url) as session:
        grey = nav(session, navs, "grey")
        if expected is None:
            with pytest.raises(InvalidTransition):
                ACTIONS[action](session, grey, request_id)
        else:
            ACTIONS[action](session, grey, request_id)
    if expected is None:
        assert snapshot(url) == before
        return
    with session_scope(url) as session:
        request = session.get(HandoffRequest, request_id)
        assert request.status == expected
        keeps_holder = action in ("claim", "mark_in_contact") or status != "new"
        assert request.claimed_by == (
            navs["grey"] if keeps_holder and action != "release" else None
        )
        last = events(session, nav(session, navs, "grey"), request_id)[-1]
        assert last.kind == EVENT_KIND[action]
        assert last.actor == f"navigator:{navs['grey']}" and last.at == NOW
        assert (
            len(events(session, nav(session, navs, "grey"), request_id))
            == len([e for e in before[1] if e[1] == request_id]) + 1
        )
        if action == "close":
            assert request.outcome == "connected" and last.data == {"outcome": "connected"}


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("status", ["claimed", "in_contact"])
def test_only_the_holder_may_act_on_a_held_request(url, navs, action, status):
    request_id = make_request(url, navs, status, holder="grey")
    before = snapshot(url)
    with session_scope(url) as session, pytest.raises(InvalidTransition):
        ACTIONS[action](session, nav(session, navs, "grey2"), request_id)
    assert snapshot(url) == before


def test_claiming_a_request_someone_else_holds_says_so(url, navs):
    request_id = make_request(url, navs, "claimed", holder="grey")
    with session_scope(url) as session, pytest.raises(InvalidTransition, match="another"):
        claim(session, nav(session, navs, "grey2"), request_id, now=NOW)


def test_unknown_outcome_is_refused(url, navs):
    request_id = make_request(url, navs, "claimed")
    before = snapshot(url)
    with session_scope(url) as session, pytest.raises(HandoffError, match="outcome"):
        close(session, nav(session, navs, "grey"), request_id, "vanished", now=NOW)
    assert snapshot(url) == before


OPERATIONS: dict[str, Callable] = {
    "get_request": lambda s, n, r: get_request(s, n, r),
    "events": lambda s, n, r: events(s, n, r),
    **ACTIONS,
    "add_note": lambda s, n, r: add_note(s, n, r, "a note", now=NOW),
    "record_message": lambda s, n, r: record_message(s, n, r, "kia ora", now=NOW),
    "start_live": lambda s, n, r: start_live(s, n, r, now=NOW),
    "end_live": lambda s, n, r: end_live(s, n, r, now=NOW),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_another_organisations_request_is_not_found_for_every_function(url, navs, operation):
    request_id = make_request(url, navs, "claimed", contact_method="chat")
    with session_scope(url) as session:
        start_live(session, nav(session, navs, "grey"), request_id, now=NOW)
    before = snapshot(url)
    with session_scope(url) as session:
        outsider = nav(session, navs, "coast")  # the West Coast team's org, not the Grey team's
        with pytest.raises(NotFound):
            OPERATIONS[operation](session, outsider, request_id)
        for bad_id in ("no-such-id", "", "x" * 1000, 12345, None, "' OR 1=1 --"):
            with pytest.raises(NotFound):
                OPERATIONS[operation](session, nav(session, navs, "grey"), bad_id)
        assert visible_requests(session, outsider) == []
    assert snapshot(url) == before


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_an_inactive_navigator_sees_nothing(url, navs, operation):
    request_id = make_request(url, navs, "claimed", contact_method="chat")
    with session_scope(url) as session:
        nav(session, navs, "grey").active = False
    before = snapshot(url)
    with session_scope(url) as session:
        grey = nav(session, navs, "grey")
        with pytest.raises(NotFound):
            OPERATIONS[operation](session, grey, request_id)
        assert visible_requests(session, grey) == []
    assert snapshot(url) == before


def test_visibility_is_by_organisation_urgent_first_then_newest(url, navs):
    with session_scope(url) as session:
        old = submit(session, DRAFT, "old", NOW).id
        newer = submit(session, DRAFT, "newer", NOW + timedelta(hours=1)).id
        urgent = submit(session, replace(DRAFT, urgent=True), "urgent", NOW - timedelta(hours=1)).id
        westport = submit(session, replace(DRAFT, place_key="westport"), "buller", NOW).id
        housing = submit(session, replace(DRAFT, need="housing"), "housing", NOW).id
    with session_scope(url) as session:
        grey = nav(session, navs, "grey")
        # The Buller team is the same organisation, so its request is visible; the
        # housing request went to the regional team (another organisation), so it is not.
        ids = [r.id for r in visible_requests(session, grey)]
        assert ids[0] == urgent and ids.index(newer) < ids.index(old)
        assert set(ids) == {old, newer, urgent, westport}
        assert [r.id for r in visible_requests(session, nav(session, navs, "coast"))] == [housing]
        claim(session, grey, old, now=NOW)
        assert old not in [r.id for r in visible_requests(session, grey, ["new"])]
        assert [r.id for r in visible_requests(session, grey, "claimed")] == [old]
        with pytest.raises(HandoffError, match="status"):
            visible_requests(session, grey, ["new", "lost"])


def test_notes_are_events_and_bad_notes_change_nothing(url, navs):
    request_id = make_request(url, navs, "new")
    with session_scope(url) as session:
        note = add_note(
            session, nav(session, navs, "buller"), request_id, "Rang twice.\nNo answer."
        )
        request = session.get(HandoffRequest, request_id)
        assert note.kind == "note" and event_text(request, note) == "Rang twice.\nNo answer."
    before = snapshot(url)
    for bad in ("", "   ", "x" * 2001, "bell\x07", None, 42):
        with session_scope(url) as session, pytest.raises(HandoffError):
            add_note(session, nav(session, navs, "grey"), request_id, bad, now=NOW)
    assert snapshot(url) == before


def test_live_chat_pauses_close_and_release_until_handed_back(url, navs):
    request_id = make_request(url, navs, "claimed", contact_method="chat")
    with session_scope(url) as session:
        grey, grey2 = nav(session, navs, "grey"), nav(session, navs, "grey2")
        with pytest.raises(InvalidTransition):
            end_live(session, grey, request_id, now=NOW)  # not live yet
        start_live(session, grey, request_id, now=NOW)
        request = get_request(session, grey, request_id)
        assert is_live(request)
        message = record_message(session, grey, request_id, "Kia ora, I'm Grey.", now=NOW)
        assert message.kind == "message" and event_text(request, message) == "Kia ora, I'm Grey."
        assert "Kia ora" not in message.detail  # sealed with the request's key
        with pytest.raises(InvalidTransition):
            record_message(session, grey2, request_id, "not mine", now=NOW)
        for refused in (start_live, release):
            with pytest.raises(InvalidTransition):
                refused(session, grey, request_id, now=NOW)
        with pytest.raises(InvalidTransition, match="live chat"):
            close(session, grey, request_id, "connected", now=NOW)
        end_live(session, grey2, request_id, now=NOW)  # anyone in the organisation can hand back
        assert not is_live(get_request(session, grey, request_id))
        close(session, grey, request_id, "connected", now=NOW)
        kinds = [e.kind for e in events(session, grey, request_id)]
    assert kinds == ["created", "claimed", "live_started", "message", "live_ended", "closed"]


def test_live_reply_only_for_chat_requests_held_by_the_navigator(url, navs):
    text_request = make_request(url, navs, "claimed", key="text")
    new_chat = make_request(url, navs, "new", key="chat", contact_method="chat")
    before = snapshot(url)
    with session_scope(url) as session:
        grey = nav(session, navs, "grey")
        for request_id in (text_request, new_chat):
            for call in (
                lambda r: record_message(session, grey, r, "hello", now=NOW),
                lambda r: start_live(session, grey, r, now=NOW),
            ):
                with pytest.raises(InvalidTransition):
                    call(request_id)
    assert snapshot(url) == before


def test_events_are_append_only(url, navs):
    request_id = make_request(url, navs, "claimed")
    earlier = snapshot(url)[1]
    with session_scope(url) as session:
        mark_in_contact(session, nav(session, navs, "grey"), request_id, now=NOW)
        add_note(session, nav(session, navs, "grey"), request_id, "called", now=NOW)
        close(session, nav(session, navs, "grey"), request_id, "connected", now=NOW)
    later = snapshot(url)[1]
    assert later[: len(earlier)] == earlier and len(later) == len(earlier) + 3
    # Neither the ORM nor plain SQL can change or delete an event.
    with pytest.raises(AppendOnlyError), session_scope(url) as session:
        session.execute(select(HandoffEvent)).scalars().first().actor = "someone"
    with pytest.raises(AppendOnlyError), session_scope(url) as session:
        session.delete(session.execute(select(HandoffEvent)).scalars().first())
    for statement in (
        update(HandoffEvent).values(actor="someone"),
        delete(HandoffEvent),
        text("UPDATE handoff_event SET detail = '{}'"),
    ):
        with pytest.raises(DBAPIError, match="append-only"), session_scope(url) as session:
            session.execute(statement)
    assert snapshot(url)[1] == later
