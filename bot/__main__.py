"""Command line: ``python -m bot <command>``.

db upgrade                 create or migrate the database schema
directory load [FILE]      load the directory seed (default data/directory/services.yml)
directory search ...       query the directory from the shell
spacy build                build the spaCy pipeline the NLU loads
web                        run the web app (chat demo page)
actions                    run the Rasa action server on loopback
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


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
    if result.fallback:
        print("(nothing specific in that place: national options)")
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


def _web(args: argparse.Namespace) -> int:
    from bot.web.app import main

    main(host=args.host, port=args.port)
    return 0


def _actions(args: argparse.Namespace) -> int:
    from bot.action_server import main

    main(host=args.host, port=args.port)
    return 0


def parser() -> argparse.ArgumentParser:
    from bot.config import env_int
    from bot.directory.seed import SERVICES_FILE

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

    actions = sub.add_parser("actions", help="run the action server on loopback")
    actions.add_argument("--host", default="127.0.0.1")
    actions.add_argument("--port", type=int, default=env_int("ACTIONS_PORT", 5055))
    actions.set_defaults(func=_actions)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
