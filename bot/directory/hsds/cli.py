"""``python -m bot directory export|import``: the HSDS 3.0 commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.directory.hsds.export import FORMATS


def _export(args: argparse.Namespace) -> int:
    from bot.db import session_scope
    from bot.directory.hsds.export import export
    from bot.migrate import upgrade

    upgrade()
    with session_scope() as session:
        written = export(session, args.format, Path(args.dir))
    print(f"Wrote {len(written)} files of HSDS 3.0 {args.format.upper()} to {args.dir}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from sqlalchemy.orm import Session

    from bot import clock
    from bot.db import get_engine
    from bot.directory import curation
    from bot.directory.hsds.importer import ImportFailed, read, run_import
    from bot.directory.hsds.mapping import MappingError, load_mapping
    from bot.migrate import upgrade

    upgrade()
    progress = args.progress or sys.stderr.isatty()
    try:
        mapping = load_mapping(args.mapping)
        records = read(Path(args.path))
        with Session(get_engine(), future=True) as session:
            report = run_import(session, records, mapping, full=args.full, progress=progress)
            if args.dry_run:
                session.rollback()
            else:
                curation.imported(session, report.curated, mapping.source, clock.now())
                session.commit()
    except MappingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ImportFailed as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"Nothing imported: {len(exc.problems)} problem(s)", file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    if args.dry_run:
        print("Dry run: nothing written")
    return 0


def add_commands(directory: argparse._SubParsersAction) -> None:
    """Adds ``export`` and ``import`` to the ``directory`` command."""
    export = directory.add_parser("export", help="write the directory as HSDS 3.0")
    export.add_argument("--format", choices=FORMATS, default="csv")
    export.add_argument("dir", help="the directory to write the files to")
    export.set_defaults(func=_export)
    imp = directory.add_parser("import", help="read HSDS 3.0 (CSV package or JSON) into it")
    imp.add_argument("path", help="a CSV data package directory, a JSON file or a directory")
    imp.add_argument(
        "--mapping", default="awhina", help="data/directory/mappings/<name>.yml for this source"
    )
    imp.add_argument("--full", action="store_true", help="mark services missing as inactive")
    imp.add_argument("--dry-run", action="store_true", help="print what would change")
    imp.add_argument("--progress", action="store_true", help="a progress bar even off a TTY")
    imp.set_defaults(func=_import)
