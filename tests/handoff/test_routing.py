"""Routing as data: the sample teams.yml, the choice of team, and the loader's validation."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot.db import session_scope
from bot.directory.models import Organization
from bot.directory.seed import read_seed
from bot.handoff import HandoffError
from bot.handoff.accounts import create_navigator
from bot.handoff.models import Navigator, NavigatorTeam, NavigatorTeamArea, NavigatorTeamHours
from bot.handoff.routing import TEAMS_FILE, TeamsError, load_teams, only_sample_teams
from bot.handoff.service import route
from tests.handoff.conftest import PASSWORD


def _route(url: str, place: str | None, need: str | None) -> str:
    with session_scope(url) as session:
        return route(session, place, need).id


@pytest.mark.parametrize(
    "place, need, team",
    [
        ("greymouth", "drugs_alcohol", "grey-navigators"),  # town -> its district's team
        ("westport", "drugs_alcohol", "buller-navigators"),
        ("reefton", "drugs_alcohol", "buller-navigators"),
        ("hokitika", "drugs_alcohol", "westland-navigators"),
        ("grey", "drugs_alcohol", "grey-navigators"),  # the district itself
        ("greymouth", "housing", "west-coast-navigators"),  # local team is for meth only
        ("greymouth", None, "west-coast-navigators"),  # no need given: an all-needs team
        ("west-coast", "drugs_alcohol", "west-coast-navigators"),  # region: no district team
        ("invercargill", "drugs_alcohol", "national-navigators"),  # another region
        ("auckland", "family_harm", "national-navigators"),
        ("greymouth", "threats_intimidation", "west-coast-navigators"),  # all-needs team
        ("gore", "threats_intimidation", "national-navigators"),
        (None, "drugs_alcohol", "national-navigators"),  # place not given
        (None, None, "national-navigators"),
    ],
)
def test_sample_routing(url, place, need, team):
    assert _route(url, place, need) == team


def test_sample_teams_and_their_organisations_say_they_are_not_real(url):
    """No sample team borrows a real organisation's name: people are told these names."""
    raw = yaml.safe_load(TEAMS_FILE.read_text(encoding="utf-8"))
    directory_orgs = {org["id"] for org in read_seed()}
    sample_orgs = {org["id"] for org in raw["sample_organizations"]}
    with session_scope(url) as session:
        teams = session.execute(select(NavigatorTeam)).scalars().all()
        assert {t.level for t in teams} == {"local", "regional", "national"}
        for team in teams:
            assert team.is_sample and team.name.startswith("Sample team – ")
            assert team.name.endswith("(not a real service)")
            assert team.organization_id in sample_orgs
            assert team.hours, f"{team.id} has sample hours"
        for org_id in sample_orgs:
            assert org_id not in directory_orgs
            name = session.get(Organization, org_id).name
            assert name.startswith("Sample ") and name.endswith("(not a real service)")
        assert only_sample_teams(session)


def test_unknown_place_or_need_is_an_error(url):
    with pytest.raises(HandoffError, match="unknown place"):
        _route(url, "atlantis", None)
    with pytest.raises(HandoffError, match="unknown need"):
        _route(url, "greymouth", "fishing")
    with pytest.raises(HandoffError, match="place must be text"):
        _route(url, ["greymouth"], None)


def test_no_teams_loaded_is_a_clear_error(seeded_url):
    with pytest.raises(HandoffError, match="load-teams"):
        _route(seeded_url, "greymouth", "drugs_alcohol")


TEAMS = """
teams:
  - {id: coast-all, name: Coast, organization: poutini-waiora, level: local,
     areas: [west-coast]}
  - {id: grey-all, name: Grey all needs, organization: poutini-waiora, level: local,
     areas: [grey]}
  - {id: grey-meth, name: Grey meth, organization: methamphetamine-impact-group,
     level: local, areas: [grey], needs: [drugs_alcohol, youth_gangs]}
  - {id: greymouth-town, name: Greymouth town, organization: poutini-waiora, level: local,
     areas: [greymouth], needs: [housing]}
  - {id: nz, name: National, organization: lifeline, level: national, areas: [nz]}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "teams.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_closest_area_then_named_need_then_id_wins(seeded_url, tmp_path):
    with session_scope(seeded_url) as session:
        assert load_teams(session, _write(tmp_path, TEAMS)) == 5
    assert _route(seeded_url, "greymouth", "housing") == "greymouth-town"  # the town itself
    assert _route(seeded_url, "greymouth", "drugs_alcohol") == "grey-meth"  # named need
    assert _route(seeded_url, "cobden", "mental_health") == "grey-all"  # district, all needs
    assert _route(seeded_url, "hokitika", "drugs_alcohol") == "coast-all"  # region's area
    assert _route(seeded_url, "gore", "housing") == "nz"


def _counts(url: str) -> tuple[int, int, int]:
    with session_scope(url) as session:
        return tuple(
            session.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (NavigatorTeam, NavigatorTeamArea, NavigatorTeamHours)
        )


def test_loading_twice_changes_nothing_and_reload_applies_edits(url, tmp_path):
    before = _counts(url)
    with session_scope(url) as session:
        load_teams(session)
    assert _counts(url) == before and before[0] == 5
    edited = TEAMS_FILE.read_text(encoding="utf-8").replace(
        "areas: [grey]\n", "areas: [grey, westland]\n"
    )
    with session_scope(url) as session:
        load_teams(session, _write(tmp_path, edited))
        grey = session.get(NavigatorTeam, "grey-navigators")
        assert grey.place_keys == ("grey", "westland")
    assert _counts(url)[1] == before[1] + 1


BASE_TEAM = (
    "{id: t, name: T, organization: poutini-waiora, level: local, areas: [grey], "
    "needs: [housing], hours: [{days: MO-FR, opens: '09:00', closes: '17:00'}]}"
)
NATIONAL = "  - {id: n, name: N, organization: lifeline, level: national, areas: [nz]}\n"
SAMPLE_ORG = "{id: sample-x, name: Sample X (not a real service)}"


@pytest.mark.parametrize(
    "team, message",
    [
        (BASE_TEAM.replace("[grey]", "[atlantis]"), "team 't': unknown place 'atlantis'"),
        (BASE_TEAM.replace("[housing]", "[fishing]"), "team 't': unknown need 'fishing'"),
        (BASE_TEAM.replace("poutini-waiora", "no-such-org"), "team 't': unknown organisation"),
        (BASE_TEAM.replace("level: local", "level: galactic"), "team 't': level must be"),
        (BASE_TEAM.replace("MO-FR", "XX"), "team 't': bad hours .*: unknown day 'XX'"),
        (BASE_TEAM.replace("'17:00'", "'25:00'"), "team 't': .*25:00"),
        (BASE_TEAM.replace("'17:00'", "17"), "team 't': .*quoted string"),
        (BASE_TEAM.replace("id: t,", "id: T Team,"), "team 'T Team': id must be"),
        (BASE_TEAM.replace("id: t,", ""), "team #1: 'id' is required"),
        (BASE_TEAM.replace("areas: [grey], ", ""), "team 't': 'areas' is required"),
        (BASE_TEAM.replace("[grey]", "[grey, grey]"), "team 't': an area or need is listed"),
        (BASE_TEAM.replace("level:", "colour: blue, level:"), "team 't': unknown fields"),
        (
            BASE_TEAM.replace("name: T,", "name: T (sample), is_sample: true,"),
            "team 't': .*'Sample '",
        ),
        (
            BASE_TEAM.replace("name: T,", "name: Sample T (not a real service), is_sample: true,"),
            "team 't': a sample team belongs to a sample organisation",
        ),
        (BASE_TEAM.replace("name: T,", "name: T, is_sample: 'yes',"), "is_sample must be"),
        (BASE_TEAM + "\n  - " + BASE_TEAM, "team 't': duplicate id"),
        ("just text", "team #1: expected a mapping"),
    ],
)
def test_invalid_teams_are_rejected_naming_the_entry_and_nothing_is_written(
    seeded_url, tmp_path, team, message
):
    path = _write(tmp_path, f"teams:\n  - {team}\n{NATIONAL}")
    with pytest.raises(TeamsError, match=message), session_scope(seeded_url) as session:
        load_teams(session, path)
    assert _counts(seeded_url) == (0, 0, 0)


@pytest.mark.parametrize(
    "text, message",
    [
        (f"teams:\n  - {BASE_TEAM}\n", "no national default team"),
        ("teams: nope\n", "expected a mapping with a 'teams' list"),
        ("teams: [\n", "not valid UTF-8 YAML"),
        (f"teams:\n{NATIONAL}extra: 1\n", "unknown sections"),
        (
            f"sample_organizations:\n  - {{id: lifeline, name: Mine (sample)}}\nteams:\n{NATIONAL}",
            "sample organisation 'lifeline': a sample organisation's id starts with 'sample-'",
        ),
        (
            f"sample_organizations:\n  - {{id: sample-x, name: X (sample)}}\nteams:\n{NATIONAL}",
            "sample organisation 'sample-x': .*name starts with 'Sample '",
        ),
        (
            f"sample_organizations:\n  - {SAMPLE_ORG}\nteams:\n"
            + NATIONAL.replace("organization: lifeline", "organization: sample-x"),
            "team 'n': a sample team belongs to a sample organisation, and only a sample team",
        ),
    ],
)
def test_invalid_files_are_rejected(seeded_url, tmp_path, text, message):
    with pytest.raises(TeamsError, match=message), session_scope(seeded_url) as session:
        load_teams(session, _write(tmp_path, text))
    assert _counts(seeded_url) == (0, 0, 0)


def test_missing_or_binary_file_is_a_clear_error(seeded_url, tmp_path):
    with pytest.raises(TeamsError, match="no such file"), session_scope(seeded_url) as session:
        load_teams(session, tmp_path / "missing.yml")
    binary = tmp_path / "binary.yml"
    binary.write_bytes(b"\xff\xfe\x00teams")
    with pytest.raises(TeamsError, match="not valid UTF-8"), session_scope(seeded_url) as session:
        load_teams(session, binary)


def _grey_team_moved(tmp_path: Path) -> Path:
    """teams.yml with the Grey team moved to the West Coast team's organisation."""
    grey = "id: grey-navigators\n    name: Sample team – Grey (not a real service)\n"
    moved = TEAMS_FILE.read_text(encoding="utf-8").replace(
        f"{grey}    organization: sample-coast-meth-navigation",
        f"{grey}    organization: sample-coast-whanau-navigation",
    )
    assert moved != TEAMS_FILE.read_text(encoding="utf-8")
    return _write(tmp_path, moved)


def test_a_team_with_navigators_cannot_move_organisation(url, navs, tmp_path):
    path = _grey_team_moved(tmp_path)
    with (
        pytest.raises(TeamsError, match="team 'grey-navigators': has navigators"),
        session_scope(url) as session,
    ):
        load_teams(session, path)


def test_sample_navigators_move_with_their_sample_team(url, tmp_path):
    """A database whose sample team belonged elsewhere still loads; its demo logins follow."""
    with session_scope(url) as session:
        navigator_id = create_navigator(
            session, "sample@example.org", "Sample", "grey-navigators", PASSWORD, is_sample=True
        ).id
    with session_scope(url) as session:
        load_teams(session, _grey_team_moved(tmp_path))
    with session_scope(url) as session:
        navigator = session.get(Navigator, navigator_id)
        assert navigator.organization_id == "sample-coast-whanau-navigation"


def test_a_real_team_among_the_samples_ends_sample_only(url, tmp_path):
    real = "  - {id: r, name: R, organization: lifeline, level: local, areas: [grey]}\n"
    with session_scope(url) as session:
        assert only_sample_teams(session)
        load_teams(session, _write(tmp_path, TEAMS_FILE.read_text(encoding="utf-8") + real))
        assert not only_sample_teams(session)


def test_no_teams_is_not_sample_only(seeded_url):
    with session_scope(seeded_url) as session:
        assert not only_sample_teams(session)


def test_a_team_is_stored_one_row_a_weekday(url, tmp_path):
    """Hours parsed as services' are (bot.directory.hours), kept one shift per weekday."""
    teams = (
        "teams:\n"
        "  - {id: n, name: N, organization: lifeline, level: national, areas: [nz], hours: 24/7}\n"
        + "  - "
        + BASE_TEAM.replace("closes: '17:00'", "closes: '24:00'")
        + "\n"
    )
    with session_scope(url) as session:
        load_teams(session, _write(tmp_path, teams))
        rows = {
            team: [
                (h.weekday, h.opens_at, h.closes_at) for h in session.get(NavigatorTeam, team).hours
            ]
            for team in ("n", "t")
        }
    assert rows["n"] == [(day, time(0, 0), time(0, 0)) for day in range(7)]
    assert rows["t"] == [(day, time(9, 0), time(0, 0)) for day in range(5)]
