"""``python -m bot directory export|import``: the HSDS 3.0 commands."""

from __future__ import annotations

import argparse
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


def add_commands(directory: argparse._SubParsersAction) -> None:
    """Adds ``export`` and ``import`` to the ``directory`` command."""
    export = directory.add_parser("export", help="write the directory as HSDS 3.0")
    export.add_argument("--format", choices=FORMATS, default="csv")
    export.add_argument("dir", help="the directory to write the files to")
    export.set_defaults(func=_export)
