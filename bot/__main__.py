"""Command line: ``python -m bot <command>``.

db upgrade                 create or migrate the database schema
directory load [FILE]      load the directory seed (default data/directory/services.yml)
directory search ...       query the directory from the shell
handoff load-teams [FILE]  load navigator teams and routing (default data/handoff/teams.yml)
handoff escalate           move unclaimed or out-of-hours requests to the fallback team (cron)
escalator                  run the escalation worker (handoff escalate every minute)
navigator create ...       create a navigator account (password prompted, or NAVIGATOR_PASSWORD)
navigator token --email E  issue a new API token for a navigator (printed once)
navigator demo             create or reset one sample navigator per sample team and a sample
                           coordinator (the insights page); prints logins
insights demo [--if-sample]  write a synthetic year of demand records, marked demo (sample
                           databases only; --if-sample: skip quietly otherwise)
retention --days N         delete conversations and handoff contact details older than N days (cron)
spacy build                build the spaCy pipeline the NLU loads
web                        run the web app (chat demo page)
inbox                      run the navigators' inbox (http://127.0.0.1:8001/)
actions                    run the Rasa action server on loopback
run                        start the Procfile's processes for development (make run)
quiet                      copy stdin to stdout without the known third-party warnings
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot import clock


def _directory_load(args: argparse.Namespace) -> int:
    from bot.db import session_scope
    from bot.directory import seed
    from bot.migrate import upgrade

    upgrade()
    try:
        with session_scope() as session:
            count = seed.load(session, Path(args.file), progress=not args.quiet)
    except seed.SeedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Loaded {count} services from {args.file}")
    from bot.handoff.routing import TEAMS_FILE

    return _load_teams(TEAMS_FILE)


def _load_teams(path: Path) -> int:
    from bot.db import session_scope
    from bot.handoff.routing import TeamsError, load_teams

    try:
        with session_scope() as session:
            count = load_teams(session, path)
    except TeamsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Loaded {count} navigator teams from {path}")
    return 0


def _handoff_load_teams(args: argparse.Namespace) -> int:
    from bot.migrate import upgrade

    upgrade()
    return _load_teams(Path(args.file))


def _handoff_escalate(args: argparse.Namespace) -> int:
    import asyncio
    from dataclasses import replace

    from aiohttp import ClientSession

    from bot.handoff import HandoffError
    from bot.navigator.escalator import run_once
    from bot.navigator.settings import Settings

    async def once() -> list:
        async with ClientSession() as http:
            settings = replace(Settings.from_env(), unclaimed_minutes=args.minutes)
            return await run_once(settings, http)

    try:
        moved = asyncio.run(once())
    except HandoffError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    unclaimed = sum(1 for m in moved if m.reason == "unclaimed")
    print(f"Escalated {unclaimed} unclaimed and {len(moved) - unclaimed} out-of-hours request(s)")
    return 0


def _escalator(args: argparse.Namespace) -> int:
    from bot.navigator.escalator import main

    main()
    return 0


def _new_password() -> str:
    """From NAVIGATOR_PASSWORD (for scripts) or typed twice; never from the command line."""
    from getpass import getpass

    password = os.environ.get("NAVIGATOR_PASSWORD")
    if password:
        return password
    password = getpass("Password: ")
    if getpass("Password again: ") != password:
        raise ValueError("the passwords do not match")
    return password


def _navigator_create(args: argparse.Namespace) -> int:
    from bot.db import session_scope
    from bot.handoff.accounts import AccountError, create_navigator

    try:
        password = _new_password()
        with session_scope() as session:
            navigator = create_navigator(
                session, args.email, args.name, args.team, password, role=args.role
            )
            print(f"Created {navigator.role} {navigator.id} in team {navigator.team_id}")
    except (AccountError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _navigator_token(args: argparse.Namespace) -> int:
    from bot.db import session_scope
    from bot.handoff.accounts import AccountError, find_by_email, issue_api_token

    try:
        with session_scope() as session:
            navigator = find_by_email(session, args.email)
            if navigator is None:
                raise AccountError("no navigator has that email")
            token = issue_api_token(session, navigator)
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(token)
    return 0


def _navigator_demo(_: argparse.Namespace) -> int:
    import secrets

    from sqlalchemy import select

    from bot.db import session_scope
    from bot.handoff.accounts import AccountError, create_navigator, find_by_email, set_password
    from bot.handoff.models import NavigatorTeam
    from bot.handoff.routing import SAMPLE_ONLY, only_sample_teams
    from bot.migrate import upgrade

    upgrade()
    logins = []
    try:
        with session_scope() as session:
            teams = session.execute(
                select(NavigatorTeam)
                .where(NavigatorTeam.is_sample.is_(True))
                .order_by(NavigatorTeam.id)
            ).scalars()
            sample_teams = teams.all()
            logins_for = [(t, f"sample-{t.id}@example.org", "navigator") for t in sample_teams]
            if sample_teams:  # sees the insights page (python -m bot insights demo)
                logins_for.append(
                    (sample_teams[0], "sample-coordinator@example.org", "coordinator")
                )
            for team, email, role in logins_for:
                password = secrets.token_urlsafe(12)
                navigator = find_by_email(session, email)
                if navigator is None:
                    create_navigator(
                        session,
                        email,
                        f"Sample {role}",
                        team.id,
                        password,
                        is_sample=True,
                        role=role,
                    )
                elif navigator.is_sample:
                    set_password(session, navigator, password)
                    navigator.active = True
                else:
                    raise AccountError(f"{email} belongs to a real navigator; nothing changed")
                logins.append(
                    (team.name if role == "navigator" else "Insights page", email, password)
                )
            sample_only = only_sample_teams(session)
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not logins:
        print("error: no sample teams: run `python -m bot handoff load-teams`", file=sys.stderr)
        return 1
    if sample_only:
        print(f"{SAMPLE_ONLY}\n")
    print("Sample navigator logins (sample data; new passwords on every run):")
    for team_name, email, password in logins:
        print(f"  {team_name}\n    email: {email}   password: {password}")
    return 0


def _insights_demo(args: argparse.Namespace) -> int:
    from bot.config import NZ
    from bot.db import session_scope
    from bot.handoff.routing import only_sample_teams
    from bot.insights import demo
    from bot.migrate import upgrade

    upgrade()
    with session_scope() as session:
        if not only_sample_teams(session):
            if args.if_sample:
                print("Insights demo data not written: this database has real navigator teams")
                return 0
            print(
                "error: demo data goes only into a database with only sample teams", file=sys.stderr
            )
            return 1
        count = demo.write(session, clock.now().astimezone(NZ).date())
    print(f"Wrote {count} demand records marked demo (synthetic, not a measurement)")
    return 0


def _retention(args: argparse.Namespace) -> int:
    from bot.db import session_scope
    from bot.handoff import outbox
    from bot.handoff.service import apply_retention
    from bot.insights import demand

    if args.days is None or args.days < 1:
        print("error: give --days N (at least 1) or set RETENTION_DAYS", file=sys.stderr)
        return 2
    from bot.privacy import delete_old_conversations, delete_old_sms_receipts, tracker_store_url

    now = clock.now()
    with session_scope() as session:
        count = apply_retention(session, now, args.days)
        delete_old_sms_receipts(session, now, args.days)
        demand.expire_keys(session, now)  # demand records themselves stay: nothing personal
    conversations = delete_old_conversations(tracker_store_url(), now, args.days)
    kept = outbox.apply_retention(now, args.days)
    print(f"Deleted the contact details of {count} handoff request(s) older than {args.days} days")
    print(f"Deleted {conversations} conversation(s) inactive for more than {args.days} days")
    print(f"Deleted {kept} handoff outbox file(s) older than {args.days} days")
    return 0


def _directory_search(args: argparse.Namespace) -> int:
    from bot.db import session_scope
    from bot.directory import present
    from bot.directory.query import ServiceQuery, search

    with session_scope() as session:
        result = search(
            session,
            ServiceQuery(
                need=args.need,
                place=args.place,
                audience=args.audience,
                kaupapa_maori=args.kaupapa_maori,
                open_now=args.open_now,
                text=args.text,
            ),
        )
    if result.relaxed:
        print(f"(nothing matched {', '.join(result.relaxed)}: the closest options)")
    if result.fallback:
        print("(nothing for that need: general services)")
    elif result.reach:
        print(f"(nearest service for that need: {result.reach})")
    print(present.summaries(result.services) or "No services found.")
    return 0


def _db_upgrade(_: argparse.Namespace) -> int:
    from bot.migrate import upgrade

    upgrade()
    return 0


def _spacy_build(args: argparse.Namespace) -> int:
    from bot.nlu.spacy_pipeline import PIPELINE_DIR, build

    print(build(Path(args.path) if args.path else PIPELINE_DIR))
    return 0


def _inbox(args: argparse.Namespace) -> int:
    from bot.navigator.main import main

    main(host=args.host, port=args.port)
    return 0


def _web(args: argparse.Namespace) -> int:
    from bot.web.app import main

    main(host=args.host, port=args.port)
    return 0


def _actions(args: argparse.Namespace) -> int:
    from bot.action_server import main

    main(host=args.host, port=args.port)
    return 0


def _run(args: argparse.Namespace) -> int:
    from bot.devrun import main

    return main(args.procfile, args.env_file)


def _quiet(_: argparse.Namespace) -> int:
    from bot.devrun import load_rules, quiet

    quiet(sys.stdin, sys.stdout, load_rules())
    return 0


def parser() -> argparse.ArgumentParser:
    from bot.config import env_int
    from bot.directory.hsds import cli as hsds_cli
    from bot.directory.seed import SERVICES_FILE
    from bot.handoff.routing import TEAMS_FILE

    p = argparse.ArgumentParser(prog="python -m bot", description="Āwhina tools")
    sub = p.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="create or migrate the schema").set_defaults(func=_db_upgrade)

    directory = sub.add_parser("directory", help="the service directory").add_subparsers(
        dest="directory_command", required=True
    )
    load = directory.add_parser("load", help="load the directory seed")
    load.add_argument("file", nargs="?", default=str(SERVICES_FILE))
    load.add_argument("--quiet", action="store_true", help="no progress bar")
    load.set_defaults(func=_directory_load)
    search = directory.add_parser("search", help="search the directory")
    search.add_argument("--need")
    search.add_argument("--place")
    search.add_argument("--audience")
    search.add_argument("--kaupapa-maori", action="store_true")
    search.add_argument("--open-now", action="store_true")
    search.add_argument("--text")
    search.set_defaults(func=_directory_search)
    hsds_cli.add_commands(directory)

    handoff = sub.add_parser("handoff", help="handoff to navigators").add_subparsers(
        dest="handoff_command", required=True
    )
    teams = handoff.add_parser("load-teams", help="load navigator teams and routing")
    teams.add_argument("file", nargs="?", default=str(TEAMS_FILE))
    teams.set_defaults(func=_handoff_load_teams)
    escalate = handoff.add_parser("escalate", help="escalate unclaimed or out-of-hours requests")
    escalate.add_argument(
        "--minutes",
        type=int,
        default=env_int("HANDOFF_UNCLAIMED_MINUTES", 30),
        help="how long a request may wait unclaimed (default HANDOFF_UNCLAIMED_MINUTES or 30)",
    )
    escalate.set_defaults(func=_handoff_escalate)

    navigator = sub.add_parser("navigator", help="navigator accounts").add_subparsers(
        dest="navigator_command", required=True
    )
    create = navigator.add_parser("create", help="create a navigator account")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True, help="display name the person is told")
    create.add_argument("--team", required=True, help="team id from data/handoff/teams.yml")
    create.add_argument(
        "--role",
        choices=("navigator", "coordinator", "viewer"),
        default="navigator",
        help="coordinator: also the insights page; viewer: only the insights page",
    )
    create.set_defaults(func=_navigator_create)
    token = navigator.add_parser("token", help="issue a new API token (printed once)")
    token.add_argument("--email", required=True)
    token.set_defaults(func=_navigator_token)
    navigator.add_parser(
        "demo", help="create or reset a sample navigator per sample team"
    ).set_defaults(func=_navigator_demo)

    insights = sub.add_parser("insights", help="needs and gaps").add_subparsers(
        dest="insights_command", required=True
    )
    insights_demo = insights.add_parser("demo", help="write synthetic demand records (demo)")
    insights_demo.add_argument(
        "--if-sample", action="store_true", help="skip quietly when the teams are not samples"
    )
    insights_demo.set_defaults(func=_insights_demo)

    retention = sub.add_parser("retention", help="delete personal details past retention")
    retention.add_argument(
        "--days",
        type=int,
        default=env_int("RETENTION_DAYS", 0) or None,
        help="keep contact details this many days (default RETENTION_DAYS)",
    )
    retention.set_defaults(func=_retention)

    spacy = sub.add_parser("spacy", help="spaCy pipeline").add_subparsers(
        dest="spacy_command", required=True
    )
    build = spacy.add_parser("build", help="build the pipeline from data/directory")
    build.add_argument("path", nargs="?")
    build.set_defaults(func=_spacy_build)

    web = sub.add_parser("web", help="run the web app")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=env_int("WEB_PORT", 8000))
    web.set_defaults(func=_web)

    inbox = sub.add_parser("inbox", help="run the navigators' inbox")
    inbox.add_argument("--host", default="127.0.0.1")
    inbox.add_argument("--port", type=int, default=env_int("INBOX_PORT", 8001))
    inbox.set_defaults(func=_inbox)

    sub.add_parser(
        "escalator", help="run the escalation worker (INBOX_ESCALATE_SECONDS, default 60)"
    ).set_defaults(func=_escalator)

    actions = sub.add_parser("actions", help="run the action server on loopback")
    actions.add_argument("--host", default="127.0.0.1")
    actions.add_argument("--port", type=int, default=env_int("ACTIONS_PORT", 5055))
    actions.set_defaults(func=_actions)

    run = sub.add_parser("run", help="start the Procfile's processes (make run)")
    run.add_argument("--procfile", type=Path, help="default: the repository's Procfile")
    run.add_argument("--env-file", type=Path, help="default: .env beside the Procfile")
    run.set_defaults(func=_run)
    sub.add_parser(
        "quiet", help="copy stdin to stdout without the warnings in data/run/quiet.yml"
    ).set_defaults(func=_quiet)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        clock.frozen()  # a malformed AWHINA_FROZEN_TIME stops a command before it starts
    except clock.ClockError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
