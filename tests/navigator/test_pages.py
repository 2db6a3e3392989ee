"""The inbox pages: the list, a request, and every form's flow and refusals."""

from __future__ import annotations

import re

import pytest

from tests.navigator.conftest import FakeRasa, World, login, settings_for, start_client

pytestmark = pytest.mark.asyncio


def _form(path: str, token: str, **fields: str) -> dict[str, str]:
    return {"csrf_token": token, **fields}


async def _post(client, path: str, token: str, **fields: str):
    return await client.post(path, data=_form(path, token, **fields), allow_redirects=False)


async def test_list_groups_by_status_urgent_then_newest(client, world: World):
    older = world.req_a
    world.clock.advance(minutes=5)
    newer = world.submit("conv-new", place_key="greymouth", need="housing")
    world.clock.advance(minutes=5)
    urgent = world.submit("conv-urgent", place_key="greymouth", urgent=True)
    await login(client, world)
    html = await (await client.get("/requests")).text()
    new_group = html[html.index('id="group-new"') : html.index('id="group-claimed"')]
    order = [m for m in re.findall(r'data-id="([0-9a-f]+)"', new_group)]
    assert order == [urgent, newer, older]
    assert world.req_b not in html  # another organisation's request
    assert "Urgent" in new_group
    for label in ("New", "Claimed", "In contact", "Closed"):
        assert f">{label} <" in html


async def test_request_page_shows_the_summary_transcript_and_team_hours(
    client, world: World, fake_rasa: FakeRasa
):
    fake_rasa.say(world.req_a_conversation, "my partner is back on the P")
    fake_rasa.say(world.req_a_conversation, "i want to kill myself", intent="crisis_suicide")
    await login(client, world)
    response = await client.get(f"/requests/{world.req_a}")
    assert response.status == 200
    html = await response.text()
    for expected in (
        "Alcohol and other drugs",
        "Worried about her partner using P",
        "Greymouth (Māwhera)",
        "Aroha",
        "Keep chatting in Āwhina",
        "my partner is back on the P",
        "Crisis signs",
        "team-a-grey:\nopen now",
    ):
        assert expected in html, expected
    assert "Join the conversation" not in html  # only once claimed


async def test_request_page_with_rasa_down_shows_the_summary_and_a_note(world: World):
    client = await start_client(settings_for(world, "http://127.0.0.1:9"))
    try:
        await login(client, world)
        response = await client.get(f"/requests/{world.req_a}")
        assert response.status == 200
        html = await response.text()
        assert "Worried about her partner using P" in html
        assert "not answering" in html
    finally:
        await client.close()


async def test_team_hours_when_closed(client, world: World):
    escalated = world.submit("conv-coast", place_key="westport")  # Buller: regional team
    await login(client, world)
    html = await (await client.get(f"/requests/{escalated}")).text()
    assert "team-a-coast:\nno staffed hours set" in html


async def test_claim_in_contact_note_close_flow(client, world: World, fake_rasa: FakeRasa):
    fake_rasa.say(world.req_a_conversation, "kia ora")
    token = await login(client, world)
    base = f"/requests/{world.req_a}"

    response = await _post(client, f"{base}/claim", token)
    assert response.status == 303 and response.headers["Location"] == base
    assert world.request(world.req_a).status == "claimed"
    # A chat request: the person is told who has it.
    assert fake_rasa.rasa_calls() == [
        (
            "events",
            [
                {"event": "slot", "name": "navigator_name", "value": "Mere"},
                {"event": "slot", "name": "navigator_org", "value": "Poutini Test A"},
            ],
        ),
        ("execute", "action_handoff_claimed"),
    ]
    page = await (await client.get(base)).text()
    assert "You hold this request now." in page

    assert (await _post(client, f"{base}/in-contact", token)).status == 303
    assert (await _post(client, f"{base}/notes", token, text="Rang, left message")).status == 303
    page = await (await client.get(base)).text()
    assert "Rang, left message" in page and "In contact" in page
    assert (await _post(client, f"{base}/close", token, outcome="connected")).status == 303
    request = world.request(world.req_a)
    assert (request.status, request.outcome) == ("closed", "connected")
    assert world.kinds(world.req_a) == ["created", "claimed", "in_contact", "note", "closed"]


async def test_release_puts_it_back_and_another_navigator_can_claim(
    client, world: World, fake_rasa: FakeRasa
):
    fake_rasa.say(world.req_a_conversation, "kia ora")
    token = await login(client, world)
    base = f"/requests/{world.req_a}"
    await _post(client, f"{base}/claim", token)
    assert (await _post(client, f"{base}/release", token)).status == 303
    assert world.request(world.req_a).status == "new"

    other = await start_client(settings_for(world, fake_rasa.url))
    try:
        other_token = await login(other, world, "a2")
        assert (await _post(other, f"{base}/claim", other_token)).status == 303
        # Now the first navigator can neither claim, release nor close it.
        before = world.snapshot()
        for path, fields in (
            ("claim", {}),
            ("release", {}),
            ("in-contact", {}),
            ("close", {"outcome": "duplicate"}),
        ):
            response = await _post(client, f"{base}/{path}", token, **fields)
            assert response.status == 409, path
        assert world.snapshot() == before
        assert "Hemi" in await (await client.get(base)).text()
    finally:
        await other.close()


async def test_claiming_a_call_request_does_not_talk_to_rasa(
    client, world: World, fake_rasa: FakeRasa
):
    world.submit(
        "conv-call", place_key="greymouth", contact_method="call", contact_detail="03 768 1234"
    )
    token = await login(client, world)
    html = await (await client.get("/requests")).text()
    call_id = [i for i in re.findall(r'data-id="([0-9a-f]+)"', html) if i != world.req_a][0]
    assert (await _post(client, f"/requests/{call_id}/claim", token)).status == 303
    assert fake_rasa.rasa_calls() == []
    page = await (await client.get(f"/requests/{call_id}")).text()
    assert 'href="tel:+6437681234"' in page
    assert "Join the conversation" not in page


async def test_claim_when_rasa_fails_keeps_the_claim_and_says_so(
    client, world: World, fake_rasa: FakeRasa
):
    fake_rasa.say(world.req_a_conversation, "kia ora")
    fake_rasa.unknown.add("action_handoff_claimed")
    token = await login(client, world)
    response = await _post(client, f"/requests/{world.req_a}/claim", token)
    assert response.status == 303
    assert world.request(world.req_a).status == "claimed"
    page = await (await client.get(f"/requests/{world.req_a}")).text()
    assert "could not tell the person" in page
    assert "not present in domain" in page


# Bad input to every form ---------------------------------------------------------------

BAD_FORMS = [
    ("close", {}),
    ("close", {"outcome": ""}),
    ("close", {"outcome": "sorted"}),
    ("close", {"outcome": "connected' OR 1=1 --"}),
    ("notes", {}),
    ("notes", {"text": "   "}),
    ("notes", {"text": "x" * 2001}),
    ("notes", {"text": "bad\x00byte"}),
    ("live/message", {}),
    ("live/message", {"text": ""}),
    ("live/message", {"text": "x" * 1001}),
]


@pytest.mark.parametrize("path, fields", BAD_FORMS)
async def test_bad_form_input_is_400_and_changes_nothing(
    client, world: World, fake_rasa: FakeRasa, path, fields
):
    fake_rasa.say(world.req_a_conversation, "kia ora")
    token = await login(client, world)
    await _post(client, f"/requests/{world.req_a}/claim", token)
    await _post(client, f"/requests/{world.req_a}/live/start", token)
    before, calls = world.snapshot(), len(fake_rasa.rasa_calls())
    response = await _post(client, f"/requests/{world.req_a}/{path}", token, **fields)
    assert response.status == 400
    assert world.snapshot() == before
    assert len(fake_rasa.rasa_calls()) == calls


@pytest.mark.parametrize(
    "path",
    ["claim", "release", "in-contact", "close", "notes", "live/start", "live/message", "live/end"],
)
async def test_huge_form_bodies_are_413_and_change_nothing(client, world: World, path):
    token = await login(client, world)
    before = world.snapshot()
    response = await client.post(
        f"/requests/{world.req_a}/{path}",
        data={"csrf_token": token, "text": "x" * (70 * 1024)},
        allow_redirects=False,
    )
    assert response.status == 413
    assert "64 KB" in await response.text()
    assert world.snapshot() == before


async def test_invalid_transitions_are_409(client, world: World):
    token = await login(client, world)
    base = f"/requests/{world.req_a}"
    before = world.snapshot()
    for path in ("release", "in-contact", "live/start", "live/end"):
        assert (await _post(client, f"{base}/{path}", token)).status == 409, path
    assert world.snapshot() == before
    assert (await _post(client, f"{base}/close", token, outcome="duplicate")).status == 303
    before = world.snapshot()
    assert (await _post(client, f"{base}/close", token, outcome="duplicate")).status == 409
    assert (await _post(client, f"{base}/claim", token)).status == 409
    assert world.snapshot() == before


# Another organisation's requests -------------------------------------------------------

FORM_FIELDS = {"close": {"outcome": "connected"}, "notes": {"text": "hi"}}


def _request_routes(app, prefix: str) -> list[tuple[str, str]]:
    return sorted(
        (r.method, r.resource.canonical)
        for r in app.router.routes()
        if "{request_id}" in r.resource.canonical
        and r.resource.canonical.startswith(prefix)
        and r.method != "HEAD"
    )


async def test_every_page_route_with_an_id_refuses_other_organisations_and_unknown_ids(
    client, world: World, fake_rasa: FakeRasa
):
    fake_rasa.say("conv-b", "hello")
    token = await login(client, world)
    routes = _request_routes(client.app, "/requests/")
    assert len(routes) == 10
    before = world.snapshot()
    for method, template in routes:
        for request_id in (world.req_b, "0" * 32, "x" * 64, "'; DROP TABLE handoff_request;--"):
            path = template.replace("{request_id}", request_id)
            action = template.rsplit("}/", 1)[-1]
            if method == "GET":
                response = await client.get(path, allow_redirects=False)
            else:
                response = await client.post(
                    path,
                    data={"csrf_token": token, "text": "hi", **FORM_FIELDS.get(action, {})},
                    allow_redirects=False,
                )
            assert response.status == 404, (method, path, response.status)
            body = await response.text()
            assert "Aroha" not in body and "conv-b" not in body
    assert world.snapshot() == before
    assert fake_rasa.rasa_calls() == []
