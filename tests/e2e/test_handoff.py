"""End to end: asking for a person records a consented, routed handoff request in the database."""

from __future__ import annotations

import uuid

import pytest
import requests
from sqlalchemy import select

from bot.db import session_scope
from bot.handoff.models import HandoffEvent, HandoffRequest
from bot.handoff.routing import SAMPLE_ONLY
from tests.e2e.conftest import TOKEN, start_actions, wait_for

pytestmark = pytest.mark.e2e


def requests_of(stack, sender: str) -> list[HandoffRequest]:
    with session_scope(stack.db_url) as session:
        return list(
            session.execute(
                select(HandoffRequest).where(HandoffRequest.conversation_id == sender)
            ).scalars()
        )


def test_a_phone_call_handoff_is_stored_routed_and_confirmed(stack):
    sender = uuid.uuid4().hex
    stack.texts(sender, "my son is on the P and I want help, we're in Greymouth")
    assert "navigator" in stack.texts(sender, "can i talk to a real person")
    assert "call you" in stack.texts(sender, "yes thats ok")
    assert "reach you" in stack.texts(sender, "Mere")
    stack.texts(sender, "call me")
    retry = stack.texts(sender, "12345")
    assert "doesn't look like" in retry and "didn't catch" not in retry  # one clear hint
    stack.texts(sender, "021 123 4567")
    asked = stack.texts(sender, "weekday mornings")
    assert "Who is the help for" in asked  # the place is known from the search
    summary = stack.texts(sender, "someone in my whānau")
    assert "Mere" in summary and "***4567"[-3:] in summary and "1234567" not in summary
    assert not requests_of(stack, sender), "nothing is stored before the person confirms"
    done = stack.texts(sender, "yes send it")
    [request] = requests_of(stack, sender)
    assert request.status == "new"
    assert request.contact_method == "call" and request.contact_detail == "+64211234567"
    assert request.preferred_name == "Mere" and request.good_time == "weekday mornings"
    assert request.consent_at is not None and request.channel == "rest"
    assert request.place_key == "greymouth" and request.need == "drugs_alcohol"
    assert request.team_id == "grey-navigators"
    with session_scope(stack.db_url) as session:
        team_org = request.team_id and session.get(type(request), request.id).team.organization.name
        kinds = [
            e.kind
            for e in session.execute(select(HandoffEvent)).scalars()
            if e.request_id == request.id
        ]
    assert team_org in done and "phone call" in done
    assert "(not a real service)" in team_org and "This is a demonstration" in done
    assert kinds == ["created"]


def test_the_servers_say_at_start_up_that_the_teams_are_samples(stack):
    log = (stack.workdir / "stack.log").read_text(errors="replace")
    assert log.count(SAMPLE_ONLY) >= 2  # the action server and the inbox


def test_without_consent_nothing_is_kept(stack):
    sender = uuid.uuid4().hex
    stack.texts(sender, "can someone ring me")
    reply = stack.texts(sender, "no")
    assert "nothing has been kept" in reply and "1737" in reply
    assert not requests_of(stack, sender)


def test_chatting_here_skips_the_contact_questions_and_can_be_cancelled(stack):
    sender = uuid.uuid4().hex
    assert "Whereabouts" in stack.say(sender, "human pls", "āe", "skip", "keep chatting here")
    assert "Send it?" in stack.say(sender, "Hokitika", "for me")
    cancelled = stack.texts(sender, "no, cancel")
    assert "nothing has been passed on" in cancelled and "1737" in cancelled
    assert not requests_of(stack, sender)


def test_a_crisis_in_the_middle_of_the_form_is_answered_first_and_the_form_can_carry_on(stack):
    sender = uuid.uuid4().hex
    stack.say(sender, "can i talk to someone", "yes")
    crisis = stack.texts(sender, "actually i dont want to be alive anymore")
    assert "111" in crisis.split("\n")[0], "the crisis answer comes first, 111 in its first line"
    assert "call you" in stack.texts(sender, "carry on")


def test_the_form_survives_an_action_server_restart(stack):
    sender = uuid.uuid4().hex
    stack.say(sender, "can i talk to someone", "yes")
    actions = next(p for p in stack.procs if "actions" in p.args)
    actions.terminate()
    actions.wait(timeout=20)
    restarted = start_actions(stack.env, stack.actions_port, stack.workdir / "stack.log")
    stack.procs[stack.procs.index(actions)] = restarted
    wait_for(f"http://127.0.0.1:{stack.actions_port}/health", 90, [restarted])
    assert "reach you" in stack.texts(sender, "Tama")


def test_bad_input_in_the_form_loses_nothing(stack):
    sender = uuid.uuid4().hex
    stack.say(sender, "can someone text me", "yes", "'; DROP TABLE handoff_request; --", "Ana")
    assert "doesn't look like" in stack.say(sender, "text me", "09 123 4567")  # not a mobile
    stack.say(sender, "+64 27 555 0123", "any time", "Westport", "skip", "yes")
    [request] = requests_of(stack, sender)
    # no need was said, so the regional all-needs team gets it (the Buller team is for P only)
    assert request.contact_detail == "+64275550123" and request.team_id == "west-coast-navigators"


def test_forget_me_deletes_the_conversation_and_scrubs_the_request(stack):
    sender = uuid.uuid4().hex
    for message in ("can someone call me", "yes", "Hemi", "call me", "027 555 0199"):
        stack.texts(sender, message)
    for message in ("any time", "Reefton", "for me", "yes"):
        stack.texts(sender, message)
    [request] = requests_of(stack, sender)
    assert request.contact_detail == "+64275550199"
    assert "deleted" in stack.texts(sender, "please delete my data")
    [request] = requests_of(stack, sender)
    assert request.contact_detail is None and request.preferred_name is None
    assert request.forgotten_at is not None and request.status == "new"
    tracker = requests.get(
        f"{stack.rasa_url}/conversations/{sender}/tracker",
        params={"token": TOKEN},
        timeout=30,
    ).json()
    said = [e.get("text") or "" for e in tracker["events"]]
    assert not any("027 555 0199" in t or "Hemi" in t for t in said)


def test_logs_hold_no_message_text_names_or_numbers(stack):
    sender = uuid.uuid4().hex
    for message in ("can someone text me", "yes", "Wiremu", "text me", "021 987 6543", "any time"):
        stack.texts(sender, message)
    log = (stack.workdir / "stack.log").read_text(errors="replace")
    for secret in ("Wiremu", "021 987 6543", "+64219876543", "0219876543", "can someone text me"):
        assert secret not in log


def test_no_stop_at_the_number_question_leaves_the_form_and_keeps_nothing(stack):
    sender = uuid.uuid4().hex
    assert "best number" in stack.say(sender, "can someone ring me", "yes", "Mere", "call me")
    reply = stack.texts(sender, "no. stop")
    assert "stopped" in reply and "1737" in reply and "0800 543 354" in reply
    assert "best number" not in reply and "doesn't look like" not in reply
    assert not requests_of(stack, sender)
    again = stack.texts(sender, "can someone ring me")
    assert "Is it OK to share" in again, "nothing was kept: the form starts from consent"


def test_give_me_a_number_to_ring_in_the_form_gets_the_numbers(stack):
    sender = uuid.uuid4().hex
    stack.texts(sender, "my son is on the P and I want help, we're in Greymouth")
    stack.texts(sender, "can i talk to someone")
    stack.texts(sender, "yes")
    reply = stack.texts(sender, "give me a number to ring")
    assert "Call 1737" in reply and "0800 787 797" in reply  # the Alcohol Drug Helpline
    assert "call you" not in reply, "the form does not ask its question again"
    assert not requests_of(stack, sender)


def test_typed_answers_and_an_answer_to_another_question_never_loop(stack):
    sender = uuid.uuid4().hex
    stack.texts(sender, "human pls")
    stack.texts(sender, "sweet as")
    stack.texts(sender, "nah")
    assert "Whereabouts" in stack.texts(sender, "keep chatting here")
    assert "Whereabouts" in stack.texts(sender, "me")  # kept as who it's for; asked again
    summary = stack.texts(sender, "send it")
    assert "Send it?" in summary and "for themself" in summary
    assert "yes or a no" not in stack.texts(sender, "send it")
    [request] = requests_of(stack, sender)
    assert request.contact_method == "chat" and request.place_key is None


def test_privacy_questions_are_answered_as_privacy_questions(stack):
    sender = uuid.uuid4().hex
    reply = stack.texts(sender, "is this private?")
    assert "chatbot" in reply and "delete my data" in reply and "105" not in reply
    reply = stack.texts(sender, "dont tell my mum")
    assert "Youthline" in reply and "serious danger" in reply
    stack.texts(sender, "can someone text me")
    reply = stack.texts(sender, "who can see this?")
    assert "navigator" in reply and "Is it OK to share" in reply  # answered, then asked again
