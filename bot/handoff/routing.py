"""Routing as data: navigator teams from ``data/handoff/teams.yml``, and which team gets a request.

A request goes to the most local team that covers the person's place and need:
a local team (a town's district, say), else a regional team, else the national
default. Within a level, the team whose area is closest to the place wins, then
a team that names the need before an all-needs team, then the team id (so the
choice never depends on row order).

Sample teams (``is_sample: true``) exist to try the handoff. Nobody may take
one for a real service: a sample team and its organisation are named "Sample
... (not a real service)", a sample team belongs to a sample organisation
(never a directory one), the person is told their request is a demonstration,
and the servers say at start-up when every team is a sample.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from bot.config import DATA_DIR
from bot.db import session_scope
from bot.directory.hours import DAYS, parse_hours
from bot.directory.models import Organization
from bot.directory.places import NATIONAL, gazetteer
from bot.directory.seed import SAMPLE_ORG_PREFIX
from bot.directory.taxonomy import taxonomies
from bot.handoff import HandoffError
from bot.handoff.models import (
    LEVELS,
    Navigator,
    NavigatorTeam,
    NavigatorTeamArea,
    NavigatorTeamHours,
)

TEAMS_FILE = DATA_DIR / "handoff" / "teams.yml"
TEAM_FIELDS = {"id", "name", "organization", "level", "areas", "needs", "hours", "is_sample"}
REQUIRED_TEAM_FIELDS = ("id", "name", "organization", "level", "areas")
ORG_FIELDS = {"id", "name", "description"}
TEAM_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
SAMPLE_PREFIX, SAMPLE_MARK = "Sample ", "(not a real service)"
SAMPLE_ONLY = (
    "SAMPLE DATA: every navigator team is a sample (data/handoff/teams.yml). "
    "Handoff requests reach no real service; load agreed teams before real use."
)


class TeamsError(HandoffError):
    """``teams.yml`` is invalid; the message names the entry."""


def is_marked_sample(name: str) -> bool:
    """Whether a name says plainly it is sample data ("Sample team – Grey (not a real service)")."""
    return name.startswith(SAMPLE_PREFIX) and SAMPLE_MARK in name


def _needs_match(team: NavigatorTeam, need: str | None) -> bool:
    codes = team.need_codes
    return not codes or (need is not None and need in codes)


def choose_team(
    teams: Iterable[NavigatorTeam],
    place_key: str | None,
    need: str | None,
    levels: Sequence[str] = LEVELS,
) -> NavigatorTeam | None:
    """The best team of the first level in ``levels`` that has one, or None."""
    lineage = gazetteer().lineage(place_key) if place_key else [NATIONAL]
    teams = list(teams)
    for level in levels:
        ranked = []
        for team in teams:
            if team.level != level or not _needs_match(team, need):
                continue
            distances = [lineage.index(key) for key in team.place_keys if key in lineage]
            if distances:
                ranked.append((min(distances), 0 if team.need_codes else 1, team.id, team))
        if ranked:
            return min(ranked, key=lambda r: r[:3])[3]
    return None


def all_teams(session: Session) -> list[NavigatorTeam]:
    return list(
        session.execute(
            select(NavigatorTeam).options(
                selectinload(NavigatorTeam.areas), selectinload(NavigatorTeam.hours)
            )
        ).scalars()
    )


class NoTeam(HandoffError):
    """No navigator team is configured yet: temporary, the request can go once teams load."""


def check_place_and_need(place_key: str | None, need: str | None) -> None:
    for field, value in (("place", place_key), ("need", need)):
        if value is not None and not isinstance(value, str):
            raise HandoffError(f"{field} must be text")
    if place_key is not None and gazetteer().get(place_key) is None:
        raise HandoffError(f"unknown place {place_key!r}")
    if need is not None and need not in taxonomies().needs:
        raise HandoffError(f"unknown need {need!r}")


def route(session: Session, place_key: str | None, need: str | None) -> NavigatorTeam:
    """The team a request for this place and need goes to (see the module docstring)."""
    check_place_and_need(place_key, need)
    team = choose_team(all_teams(session), place_key, need)
    if team is None:
        raise NoTeam("no navigator team is configured: run `python -m bot handoff load-teams`")
    return team


def only_sample_teams(session: Session) -> bool:
    """True when teams are loaded and every one is a sample: no request reaches a real service."""
    return set(session.execute(select(NavigatorTeam.is_sample)).scalars()) == {True}


def warn_if_sample_only(log: logging.Logger) -> None:
    """Says at a server's start-up that it runs on sample teams only."""
    try:
        with session_scope() as session:
            sample_only = only_sample_teams(session)
    except SQLAlchemyError as exc:
        log.warning("Could not read the navigator teams: %s", type(exc).__name__)
        return
    if sample_only:
        log.warning(SAMPLE_ONLY)


def fallback_team(
    session: Session, team: NavigatorTeam, place_key: str | None, need: str | None
) -> NavigatorTeam | None:
    """The team one level up from ``team`` for this place and need (None above national)."""
    higher = LEVELS[LEVELS.index(team.level) + 1 :]
    found = choose_team(all_teams(session), place_key, need, higher)
    return found if found is not None and found.id != team.id else None


# Loading teams.yml ------------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TeamsError(f"{path}: no such file") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise TeamsError(f"{path}: not valid UTF-8 YAML: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("teams"), list):
        raise TeamsError(f"{path}: expected a mapping with a 'teams' list")
    unknown = set(raw) - {"teams", "sample_organizations"}
    if unknown:
        raise TeamsError(f"{path}: unknown sections {sorted(unknown)}")
    if not isinstance(raw.get("sample_organizations", []), list):
        raise TeamsError(f"{path}: 'sample_organizations' must be a list")
    return raw


def _where(kind: str, entry: Any, index: int) -> str:
    if isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"]:
        return f"{kind} {entry['id']!r}"
    return f"{kind} #{index + 1}"


def _text(entry: dict[str, Any], key: str, where: str, limit: int = 255) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise TeamsError(f"{where}: '{key}' is required (text)")
    if len(value) > limit:
        raise TeamsError(f"{where}: '{key}' is longer than {limit} characters")
    return value.strip()


def _sample_orgs(raw: list[Any]) -> dict[str, Organization]:
    orgs: dict[str, Organization] = {}
    for i, entry in enumerate(raw):
        where = _where("sample organisation", entry, i)
        if not isinstance(entry, dict):
            raise TeamsError(f"{where}: expected a mapping")
        unknown = set(entry) - ORG_FIELDS
        if unknown:
            raise TeamsError(f"{where}: unknown fields {sorted(unknown)}")
        org_id, name = _text(entry, "id", where, 64), _text(entry, "name", where)
        if not org_id.startswith(SAMPLE_ORG_PREFIX) or not is_marked_sample(name):
            raise TeamsError(
                f"{where}: a sample organisation's id starts with '{SAMPLE_ORG_PREFIX}' "
                f"and its name starts with '{SAMPLE_PREFIX}' and says '{SAMPLE_MARK}'"
            )
        if org_id in orgs:
            raise TeamsError(f"{where}: duplicate id")
        orgs[org_id] = Organization(
            id=org_id, name=name, description=str(entry.get("description") or "")
        )
    return orgs


def _team(
    entry: Any, where: str, known_orgs: set[str], sample_orgs: set[str]
) -> tuple[NavigatorTeam, list[str], list[Any]]:
    if not isinstance(entry, dict):
        raise TeamsError(f"{where}: expected a mapping")
    unknown = set(entry) - TEAM_FIELDS
    if unknown:
        raise TeamsError(f"{where}: unknown fields {sorted(unknown)}")
    values = {key: _text(entry, key, where) for key in REQUIRED_TEAM_FIELDS if key != "areas"}
    if not TEAM_ID.fullmatch(values["id"]):
        raise TeamsError(f"{where}: id must be lower-case letters, digits and '-'")
    if values["level"] not in LEVELS:
        raise TeamsError(f"{where}: level must be one of {', '.join(LEVELS)}")
    if values["organization"] not in known_orgs:
        raise TeamsError(
            f"{where}: unknown organisation {values['organization']!r} "
            "(load the directory first, or add a sample organisation)"
        )
    is_sample = entry.get("is_sample", False)
    if not isinstance(is_sample, bool):
        raise TeamsError(f"{where}: is_sample must be true or false")
    if is_sample and not is_marked_sample(values["name"]):
        raise TeamsError(
            f"{where}: a sample team's name starts with '{SAMPLE_PREFIX}' and says '{SAMPLE_MARK}'"
        )
    if is_sample != (values["organization"] in sample_orgs):
        raise TeamsError(
            f"{where}: a sample team belongs to a sample organisation, and only a sample team does"
        )
    areas, needs = entry.get("areas"), entry.get("needs") or []
    if not isinstance(areas, list) or not areas:
        raise TeamsError(f"{where}: 'areas' is required (a list of place keys)")
    if not isinstance(needs, list):
        raise TeamsError(f"{where}: 'needs' must be a list of need codes")
    for area in areas:
        if not isinstance(area, str) or gazetteer().get(area) is None:
            raise TeamsError(f"{where}: unknown place {area!r} (see data/directory/places.yml)")
    for need in needs:
        if not isinstance(need, str) or need not in taxonomies().needs:
            raise TeamsError(f"{where}: unknown need {need!r} (see data/directory/taxonomy.yml)")
    if len(set(areas)) != len(areas) or len(set(needs)) != len(needs):
        raise TeamsError(f"{where}: an area or need is listed twice")
    try:
        shifts = parse_hours(entry.get("hours"))
    except ValueError as exc:
        raise TeamsError(f"{where}: {exc}") from exc
    team = NavigatorTeam(
        id=values["id"],
        organization_id=values["organization"],
        name=values["name"],
        level=values["level"],
        needs=",".join(needs),
        is_sample=is_sample,
    )
    return team, list(areas), shifts


def _check_keeps_organisation(session: Session, team: NavigatorTeam, where: str) -> None:
    """A team with real navigators cannot move to another organisation (they see its requests).

    Sample navigators move with their team (see ``load_teams``).
    """
    moved = session.execute(
        select(Navigator.id)
        .where(
            Navigator.team_id == team.id,
            Navigator.organization_id != team.organization_id,
            Navigator.is_sample.is_(False),
        )
        .limit(1)
    ).first()
    if moved:
        raise TeamsError(
            f"{where}: has navigators of another organisation; create a new team instead"
        )


def load_teams(session: Session, path: Path = TEAMS_FILE) -> int:
    """Loads (or reloads) the teams in ``path``; returns how many.

    Everything is validated before anything is written. Teams are replaced by
    id with their areas and hours; a team no longer in the file is kept,
    because navigators and requests still point at it.
    """
    raw = _read(path)
    sample_orgs = _sample_orgs(raw.get("sample_organizations", []))
    # Directory ids never start with SAMPLE_ORG_PREFIX (the seed refuses them), so
    # a sample organisation only ever replaces an earlier load of itself.
    directory_orgs = {
        org_id
        for org_id in session.execute(select(Organization.id)).scalars()
        if not org_id.startswith(SAMPLE_ORG_PREFIX)
    }
    known_orgs = directory_orgs | set(sample_orgs)
    parsed = []
    seen: set[str] = set()
    for i, entry in enumerate(raw["teams"]):
        where = _where("team", entry, i)
        team, areas, shifts = _team(entry, where, known_orgs, set(sample_orgs))
        if team.id in seen:
            raise TeamsError(f"{where}: duplicate id")
        _check_keeps_organisation(session, team, where)
        seen.add(team.id)
        parsed.append((team, areas, shifts))
    if not any(
        t.level == "national" and not t.need_codes and NATIONAL in areas for t, areas, _ in parsed
    ):
        raise TeamsError(
            f"{path}: no national default team (level national, areas [nz], no needs): "
            "every request must have somewhere to go"
        )
    for org in sample_orgs.values():
        session.merge(org)
    session.flush()
    for team, areas, shifts in parsed:
        existing = session.get(NavigatorTeam, team.id)
        if existing is not None:
            existing.hours.clear()
            existing.areas.clear()
            session.flush()
        merged = session.merge(team)
        session.execute(
            update(Navigator)
            .where(Navigator.team_id == team.id, Navigator.is_sample.is_(True))
            .values(organization_id=team.organization_id)
            .execution_options(synchronize_session="fetch")
        )
        merged.areas = [NavigatorTeamArea(team_id=team.id, place_key=key) for key in areas]
        merged.hours = [
            NavigatorTeamHours(
                team_id=team.id, weekday=DAYS.index(day), opens_at=s.opens, closes_at=s.closes
            )
            for s in shifts
            for day in s.days
        ]
    session.flush()
    return len(parsed)
