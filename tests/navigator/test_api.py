"""The JSON API: token auth, the same operations as the pages, clear errors, and the spec."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import ROOT
from bot.navigator import ops
from tests.navigator.conftest import FakeRasa, World, bearer

pytestmark = pytest.mark.asyncio

SPEC = ROOT / "bot" / "navigator" / "openapi.yaml"
BODIES = {
    "close": {"outcome": "connected"},
    "notes": {"text": "a note"},
    "messages": {"text": "kia ora"},
}


def _api_routes(app) -> set[tuple[str, str]]:
    return {
        (r.method.lower(), r.resource.canonical)
        for r in app.router.routes()
        if r.resource.canonical.startswith("/api/") and r.method != "HEAD"
    }


async def test_openapi_documents_exactly_the_api_routes(client):
    spec = yaml.safe_load(Path(SPEC).read_text(encoding="utf-8"))
    assert spec["openapi"].startswith("3.0")
    documented = {
        (method, path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert documented == _api_routes(client.app)
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert "401" in operation["responses"], (method, path)
            if "{request_id}" in path:
                assert "404" in operation["responses"], (method, path)


def _resolve(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = spec["components"][kind][name]
    return node


async def test_openapi_matches_the_operations_table_and_the_request_json(client, world: World):
    """Each operation's success status and body fields, and the request's fields, as sent."""
    spec = yaml.safe_load(Path(SPEC).read_text(encoding="utf-8"))
    for operation in ops.OPERATIONS:
        item = spec["paths"][f"/api/requests/{{request_id}}/{operation.api_path}"]["post"]
        assert str(operation.api_status) in item["responses"], operation.name
        schema = _resolve(
            spec, _resolve(spec, item["requestBody"])["content"]["application/json"]["schema"]
        )
        assert set(schema.get("properties", {})) == set(operation.fields), operation.name
        assert set(schema.get("required", [])) == {
            name for name, required in operation.fields.items() if required
        }, operation.name
    response = await client.get(f"/api/requests/{world.req_a}", headers=bearer(world))
    sent = (await response.json())["request"]
    assert set(sent) == set(spec["components"]["schemas"]["Request"]["properties"])


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic YTpi"},
        {"Authorization": "Bearer " + "x" * 5000},
    ],
)
async def test_no_or_bad_token_is_401(client, world: World, headers):
    before = world.snapshot()
    for method, path in sorted(_api_routes(client.app)):
        path = path.replace("{request_id}", world.req_a)
        response = await client.request(method, path, headers=headers, json={})
        assert response.status == 401, (method, path)
        body = await response.json()
        assert body["error"] == "Unauthorized" and "token" in body["message"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert world.snapshot() == before


async def test_list_and_get_only_the_organisations_requests(client, world: World):
    response = await client.get("/api/requests", headers=bearer(world, "a"))
    assert response.status == 200
    ids = [r["id"] for r in (await response.json())["requests"]]
    assert ids == [world.req_a]
    response = await client.get("/api/requests", headers=bearer(world, "b"))
    assert [r["id"] for r in (await response.json())["requests"]] == [world.req_b]

    response = await client.get(f"/api/requests/{world.req_a}", headers=bearer(world))
    body = await response.json()
    assert body["request"]["preferred_name"] == "Aroha"
    assert body["request"]["team"]["open_now"] is True
    assert [e["kind"] for e in body["events"]] == ["created"]
    me = await (await client.get("/api/me", headers=bearer(world))).json()
    assert me["navigator"]["organization_name"] == "Poutini Test A"


async def test_status_filter(client, world: World):
    headers = bearer(world)
    await client.post(
        f"/api/requests/{world.req_a}/close", headers=headers, json={"outcome": "duplicate"}
    )
    for query, expected in (
        ("?status=new", []),
        ("?status=closed", [world.req_a]),
        ("?status=new,closed", [world.req_a]),
        ("?status=new&status=closed", [world.req_a]),
    ):
        body = await (await client.get(f"/api/requests{query}", headers=headers)).json()
        assert [r["id"] for r in body["requests"]] == expected, query
    response = await client.get("/api/requests?status=open", headers=headers)
    assert response.status == 400
    assert "Unknown status" in (await response.json())["message"]


async def test_flow_through_the_api(client, world: World, fake_rasa: FakeRasa):
    fake_rasa.say(world.req_a_conversation, "kia ora")
    headers = bearer(world)
    base = f"/api/requests/{world.req_a}"
    body = await (await client.post(f"{base}/claim", headers=headers)).json()
    assert body["request"]["status"] == "claimed" and body["request"]["held_by_me"]
    assert body["warning"] is None
    response = await client.post(f"{base}/notes", headers=headers, json={"text": "note"})
    assert response.status == 201
    body = await (await client.post(f"{base}/in-contact", headers=headers, json={})).json()
    assert body["request"]["status"] == "in_contact"
    body = await (
        await client.post(f"{base}/close", headers=headers, json={"outcome": "referred"})
    ).json()
    assert (body["request"]["status"], body["request"]["outcome"]) == ("closed", "referred")
    events = (await (await client.get(base, headers=headers)).json())["events"]
    assert [e["kind"] for e in events] == ["created", "claimed", "note", "in_contact", "closed"]
    assert events[2]["detail"] == {"text": "note"} and events[2]["actor_name"] == "You"


async def test_transcript_and_rasa_down(client, world: World, fake_rasa: FakeRasa):
    fake_rasa.say(world.req_a_conversation, "kia ora")
    body = await (
        await client.get(f"/api/requests/{world.req_a}/transcript", headers=bearer(world))
    ).json()
    assert [(t["actor"], t["text"]) for t in body["turns"]] == [("user", "kia ora")]


async def test_transcript_when_rasa_is_down_is_502(world: World):
    from tests.navigator.conftest import settings_for, start_client

    client = await start_client(settings_for(world, "http://127.0.0.1:9"))
    try:
        response = await client.get(
            f"/api/requests/{world.req_a}/transcript", headers=bearer(world)
        )
        assert response.status == 502
        assert "not answering" in (await response.json())["message"]
    finally:
        await client.close()


async def test_every_api_route_with_an_id_refuses_other_organisations_and_unknown_ids(
    client, world: World, fake_rasa: FakeRasa
):
    fake_rasa.say("conv-b", "hello")
    routes = sorted(r for r in _api_routes(client.app) if "{request_id}" in r[1])
    assert len(routes) == 10
    before = world.snapshot()
    for method, template in routes:
        action = template.rsplit("/", 1)[-1]
        for request_id in (world.req_b, "0" * 32, "z" * 65, "1 OR 1=1"):
            path = template.replace("{request_id}", request_id)
            response = await client.request(
                method, path, headers=bearer(world, "a"), json=BODIES.get(action)
            )
            assert response.status == 404, (method, path, response.status)
            body = await response.json()
            assert body["error"] == "Not Found"
    assert world.snapshot() == before
    assert fake_rasa.rasa_calls() == []


BAD_BODIES = [
    ("close", b'{"outcome": ', 400),  # malformed JSON
    ("close", b"[]", 400),  # not an object
    ("close", b"{}", 400),  # missing field
    ("close", b'{"outcome": 3}', 400),  # wrong type
    ("close", b'{"outcome": "fine"}', 400),  # unknown value
    ("close", b'{"outcome": "connected", "extra": 1}', 400),  # unknown field
    ("notes", b'{"text": null}', 400),
    ("notes", b'{"text": ["a"]}', 400),
    ("notes", b'{"text": ""}', 400),
    ("notes", b'{"text": "\\u0000"}', 400),
    ("notes", b'{"text": "' + b"y" * 2001 + b'"}', 400),
    ("notes", b"\xff\xfe not utf-8", 400),
    ("messages", b'{"text": 12}', 400),
    ("messages", b'{"message": "hi"}', 400),
    ("claim", b'{"please": true}', 400),
    ("claim", b"null", 400),
    ("claim", b'"claim"', 400),
]


@pytest.mark.parametrize("action, body, status", BAD_BODIES)
async def test_bad_bodies_get_a_clear_json_error_and_change_nothing(
    client, world: World, action, body, status
):
    before = world.snapshot()
    response = await client.post(
        f"/api/requests/{world.req_a}/{action}",
        data=body,
        headers={**bearer(world), "Content-Type": "application/json"},
    )
    assert response.status == status
    payload = await response.json()
    assert payload["error"] == "Bad Request" and payload["message"]
    assert world.snapshot() == before


@pytest.mark.parametrize("action", ["claim", "close", "notes", "messages", "live/start"])
async def test_huge_and_non_json_bodies(client, world: World, action):
    before = world.snapshot()
    path = f"/api/requests/{world.req_a}/{action}"
    response = await client.post(
        path,
        data=b'{"text": "' + b"x" * (65 * 1024) + b'"}',
        headers={**bearer(world), "Content-Type": "application/json"},
    )
    assert response.status == 413
    assert "64 KB" in (await response.json())["message"]
    response = await client.post(
        path, data="outcome=connected", headers={**bearer(world), "Content-Type": "text/plain"}
    )
    assert response.status == 415
    assert world.snapshot() == before


async def test_conflicts_are_409(client, world: World, fake_rasa: FakeRasa):
    fake_rasa.say(world.req_a_conversation, "kia ora")
    base = f"/api/requests/{world.req_a}"
    assert (await client.post(f"{base}/claim", headers=bearer(world, "a"))).status == 200
    before = world.snapshot()
    for action, body in (("claim", None), ("release", None), ("close", {"outcome": "other"})):
        response = await client.post(f"{base}/{action}", headers=bearer(world, "a2"), json=body)
        assert response.status == 409, action
        assert (await response.json())["error"] == "Conflict"
    response = await client.post(f"{base}/messages", headers=bearer(world), json={"text": "hi"})
    assert response.status == 409
    assert "Join the conversation first" in (await response.json())["message"]
    assert world.snapshot() == before


async def test_live_reply_through_the_api(client, world: World, fake_rasa: FakeRasa):
    fake_rasa.say(world.req_a_conversation, "kia ora")
    base = f"/api/requests/{world.req_a}"
    headers = bearer(world)
    await client.post(f"{base}/claim", headers=headers)
    body = await (await client.post(f"{base}/live/start", headers=headers)).json()
    assert body["request"]["live"] is True
    response = await client.post(
        f"{base}/messages", headers=headers, json={"text": "Kia ora Aroha"}
    )
    assert response.status == 201
    body = await (await client.post(f"{base}/live/end", headers=headers)).json()
    assert body["request"]["live"] is False and body["warning"] is None
    assert world.kinds(world.req_a)[-3:] == ["live_started", "message", "live_ended"]
