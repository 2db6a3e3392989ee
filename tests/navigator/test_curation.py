"""The curation workspace: who may open it, its lists, edits checked as the importer checks
rows, phones with their HSDS types, "verified today" (who, when and the assurer's email),
the audit log, a stale form refused with the input kept, and the bot's search answering
with the new facts."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.directory import curation, query, seed
from bot.directory.curation import CurationChange
from bot.directory.models import Service
from bot.handoff import accounts
from tests.navigator.conftest import PASSWORD, World, csrf_in, login

pytestmark = pytest.mark.asyncio

SERVICE = "buller-health"
FORM = {
    "name": "Buller Health",
    "description": "Hospital and GP services in Westport.",
    "email": "reception@example.org.nz",
    "website": "https://example.org.nz/buller",
    "hours_text": "By appointment",
    "kaupapa_maori": "",
    "free": "yes",
    "version": "0",
}
PHONES = [("(03) 788 9030", "voice"), ("0800 123 456", "text")]


def _posted(csrf: str | None, phones=PHONES, **changes: str) -> list[tuple[str, str]]:
    """The edit form as a browser posts it: its fields, then each phone line's two."""
    fields = [*{**FORM, **changes, "csrf_token": csrf or ""}.items()]
    return fields + [
        (k, v) for number, kind in phones for k, v in ((("phone", number)), ("phone_type", kind))
    ]


def _directory(world: World) -> None:
    """The directory seed, a coordinator and a viewer, in the world every test starts from."""
    with session_scope(world.url) as session:
        seed.load(session)
        for key, role in (("coordinator", "coordinator"), ("viewer", "viewer")):
            navigator = accounts.create_navigator(
                session, f"{key}@example.org", key.title(), "team-a-grey", PASSWORD, role=role
            )
            world.navigators[key] = navigator.email


@pytest.fixture
def world_setup():
    return _directory


@pytest.fixture
def directory(world: World) -> World:
    return world


def _changes(world: World) -> list[CurationChange]:
    with session_scope(world.url) as session:
        rows = session.scalars(select(CurationChange).order_by(CurationChange.id)).all()
        session.expunge_all()
        return list(rows)


async def test_anonymous_people_are_sent_to_sign_in(client, directory: World):
    response = await client.get("/curation", allow_redirects=False)
    assert response.status in (302, 303)
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("key", ["a", "viewer"])
async def test_navigators_and_viewers_cannot_open_or_change_it(client, directory: World, key):
    csrf = await login(client, directory, key) if key == "a" else None
    if key == "viewer":
        page = await client.get("/login")
        await client.post(
            "/login",
            data={"email": directory.navigators[key], "password": PASSWORD,
                  "csrf_token": csrf_in(await page.text())},
        )  # fmt: skip
        csrf = csrf_in(await (await client.get("/insights")).text())
    listing = await client.get("/curation", allow_redirects=False)
    assert listing.status in (403, 303)
    if listing.status == 303:
        assert listing.headers["Location"] == "/insights"
    response = await client.post(
        f"/curation/services/{SERVICE}", data=_posted(csrf), allow_redirects=False
    )
    assert response.status == 403
    verified = await client.post(
        f"/curation/services/{SERVICE}/verified",
        data={"csrf_token": csrf, "version": "0"},
        allow_redirects=False,
    )
    assert verified.status == 403
    assert _changes(directory) == []
    assert 'href="/curation"' not in await (await client.get("/requests")).text()


async def test_a_navigator_is_refused_the_list_with_403(client, directory: World):
    await login(client, directory, "a")
    response = await client.get("/curation")
    assert response.status == 403
    assert "for coordinators" in await response.text()


async def test_the_lists(client, directory: World):
    await login(client, directory, "coordinator")
    assert 'href="/curation">Directory</a>' in await (await client.get("/requests")).text()
    buller = await (await client.get("/curation", params={"district": "buller"})).text()
    assert "Buller Health" in buller and "Te Nikau" in buller  # a West Coast service too
    assert "Healthline" not in buller  # national
    queue = await (await client.get("/curation", params={"queue": "no_contact"})).text()
    assert "Buller Health" in queue and "Healthline" not in queue
    health = await (await client.get("/curation", params={"need": "cultural"})).text()
    assert "Poutini Waiora" in health and "Buller Health" not in health
    bad = await client.get("/curation", params={"queue": "everything"})
    assert bad.status == 400 and "There is no such list." in await bad.text()


async def test_an_edit_reaches_the_search_with_an_audit_row(client, directory: World):
    csrf = await login(client, directory, "coordinator")
    form = await (await client.get(f"/curation/services/{SERVICE}")).text()
    assert '<input type="hidden" name="version" value="0">' in form
    assert form.count('name="phone"') == 2  # no number yet: two blank lines
    response = await client.post(
        f"/curation/services/{SERVICE}", data=_posted(csrf), allow_redirects=False
    )
    assert response.status == 303, await response.text()
    page = await (await client.get(f"/curation/services/{SERVICE}")).text()
    assert "Saved." in page and "Coordinator" in page
    # The audit row's after, each number with its kind; the form shows the kinds chosen.
    assert "<td>03 788 9030 (Voice), 0800 123 456 (Text (SMS))</td>" in page
    assert '<option value="text" selected>Text (SMS)</option>' in page
    assert '<input type="hidden" name="version" value="1">' in page
    with session_scope(directory.url) as session:
        found = query.search(session, query.ServiceQuery(need="health", place="westport"))
        view = next(s for s in found.services if s.id == SERVICE)
        assert [(p.number, p.type) for p in view.phones] == [
            ("03 788 9030", "voice"),
            ("0800 123 456", "text"),
        ]
        assert view.email == "reception@example.org.nz" and view.free is True
        assert view.description == "Hospital and GP services in Westport."
        assert view.website == "https://example.org.nz/buller"
        assert query.find_by_name(session, "what about buller health")[0].has_contact
    (change,) = _changes(directory)
    before, after = json.loads(change.before), json.loads(change.after)
    assert change.action == "edit" and change.navigator_name == "Coordinator"
    assert before["phones"] == [] and [p["type"] for p in after["phones"]] == ["voice", "text"]
    assert after["hours_text"] == "By appointment" and before["hours_text"] is None
    queue = await (await client.get("/curation", params={"queue": "no_contact"})).text()
    assert "Buller Health" not in queue


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "call us", "is not a phone number"),
        ("phone_type", "pigeon", "choose one of the kinds"),
        ("email", "not an email", "Email: "),
        ("name", "", "Name: is required"),
        ("name", "x" * 300, "longer than 255 characters"),
        ("name", "Buller\x07 Health", "Name: has a line break or a control character"),
        ("description", "x" * 5000, "longer than 4000 characters"),
        ("website", "javascript:alert(1)", "Website: "),
        ("free", "maybe", "choose yes, no or not known"),
    ],
)
async def test_bad_input_is_shown_and_nothing_saved(
    client, directory: World, field: str, value: str, message: str
):
    csrf = await login(client, directory, "coordinator")
    phones = [(value, "voice")] if field == "phone" else PHONES
    phones = [("03 788 9030", value)] if field == "phone_type" else phones
    response = await client.post(
        f"/curation/services/{SERVICE}", data=_posted(csrf, phones, **{field: value})
    )
    html = await response.text()
    assert response.status == 400
    assert "Nothing was saved." in html and message in html
    assert 'value="Hospital and GP services in Westport."' not in html  # a textarea's
    assert "Hospital and GP services in Westport." in html or field == "description"
    assert _changes(directory) == []
    with session_scope(directory.url) as session:
        (view,) = query.get_services(session, [SERVICE])
        assert view.phones == () and view.email is None


async def test_a_form_without_its_csrf_token_changes_nothing(client, directory: World):
    await login(client, directory, "coordinator")
    response = await client.post(f"/curation/services/{SERVICE}", data=_posted(None))
    assert response.status == 403
    assert _changes(directory) == []


async def test_a_form_without_its_version_changes_nothing(client, directory: World):
    csrf = await login(client, directory, "coordinator")
    for version in ("", "one", "-1"):
        response = await client.post(
            f"/curation/services/{SERVICE}", data=_posted(csrf, version=version)
        )
        assert response.status == 400
        assert "open the record again" in await response.text()
    assert _changes(directory) == []


async def test_a_stale_form_is_refused_showing_the_change_and_keeping_the_input(
    client, directory: World
):
    """Two coordinators open the record at version 0; the other one saves first. This
    one's save is refused (409): their change is shown, this one's input stays in the
    form with the new version, and saving again goes through."""
    with session_scope(directory.url) as session:
        other = curation.Curator("someone", "Aroha", None)
        theirs = curation.check(SERVICE, {**FORM, "email": "desk@buller.example.nz"}, [])
        curation.save(session, SERVICE, theirs, other, directory.clock(), 0)
    csrf = await login(client, directory, "coordinator")
    response = await client.post(
        f"/curation/services/{SERVICE}", data=_posted(csrf, description="Ours, typed with care.")
    )
    html = await response.text()
    assert response.status == 409
    assert "someone else changed this record after you opened it" in html
    assert "<td>Aroha</td><td>Email</td><td></td><td>desk@buller.example.nz</td>" in html
    assert "Ours, typed with care.</textarea>" in html
    assert 'value="(03) 788 9030"' in html and '<option value="text" selected>' in html
    assert '<input type="hidden" name="version" value="1">' in html
    with session_scope(directory.url) as session:
        facts = curation.facts_of(session, SERVICE)
        assert facts.email == "desk@buller.example.nz" and facts.phones == ()
    again = await client.post(
        f"/curation/services/{SERVICE}",
        data=_posted(csrf, description="Ours, typed with care.", version="1"),
        allow_redirects=False,
    )
    assert again.status == 303
    with session_scope(directory.url) as session:
        assert curation.facts_of(session, SERVICE).description == "Ours, typed with care."
    stale_verify = await client.post(
        f"/curation/services/{SERVICE}/verified", data={"csrf_token": csrf, "version": "1"}
    )
    assert stale_verify.status == 409
    assert "Not recorded as verified" in await stale_verify.text()
    assert [c.navigator_name for c in _changes(directory)] == ["Aroha", "Coordinator"]


async def test_verified_today_records_who_and_when(client, directory: World):
    csrf = await login(client, directory, "coordinator")
    never = await (await client.get("/curation", params={"queue": "never"})).text()
    assert "Buller Health" in never
    response = await client.post(
        f"/curation/services/{SERVICE}/verified",
        data={"csrf_token": csrf, "version": "0"},
        allow_redirects=False,
    )
    assert response.status == 303
    (change,) = _changes(directory)
    assert change.action == "verified" and change.navigator_name == "Coordinator"
    assert change.at == directory.clock()
    # 10 am UTC on 2 March is 11 pm on 2 March in New Zealand.
    assert json.loads(change.after)["last_verified"] == "2026-03-02"
    with session_scope(directory.url) as session:
        assert query.get_services(session, [SERVICE])[0].last_verified == date(2026, 3, 2)
        # The email the coordinator signs in with: HSDS assurer_email.
        assert session.get(Service, SERVICE).assurer_email == "coordinator@example.org"
    never = await (await client.get("/curation", params={"queue": "never"})).text()
    assert "Buller Health" not in never
    stale = await (await client.get("/curation", params={"queue": "stale"})).text()
    assert "Buller Health" not in stale
    with session_scope(directory.url) as session:  # a year and a day on
        later = curation.services(session, date(2027, 3, 3), queue="stale")
        assert SERVICE in [s.id for s in later]
        assert SERVICE not in [
            s.id for s in curation.services(session, date(2027, 3, 2), queue="stale")
        ]


async def test_an_unknown_service(client, directory: World):
    await login(client, directory, "coordinator")
    response = await client.get("/curation/services/no-such-thing")
    assert response.status == 404
