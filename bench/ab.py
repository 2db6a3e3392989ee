"""``python -m bench.ab REV``: Āwhina at git revision ``REV`` and the working tree, side by side.

On a machine shared with other work, ``make bench`` measures each phase once and
the load on the machine moves between phases as much as a change does. This
starts both versions of the full assistant at once (``REV`` from a temporary git
worktree, with the working tree's trained model), then loads them in turn,
``ROUNDS`` times: one conversation, then 20 at once, closed loop. Both see the same
background load, so the CPU time per message, throughput and latency of each round
can be compared. Prints one line per round and version; nothing is written.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import bots, load

ROUNDS = 3
LEVELS = ((1, 10.0), (20, 15.0))  # conversations at once, seconds measured
WARMUP_S = 3.0


def _start(root: Path, workdir: Path) -> bots.Bot:
    """The assistant with its code (Rasa server and action server) from ``root``."""
    bots.ROOT = root  # start_awhina runs both servers from ROOT
    return bots.start_awhina(workdir)


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: python -m bench.ab REV (a git revision to compare with)", file=sys.stderr)
        return 2
    here = bots.ROOT
    with tempfile.TemporaryDirectory(prefix="awhina-ab-") as tmp:
        tmp_path = Path(tmp)
        tree = tmp_path / "tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), sys.argv[1]], cwd=here, check=True
        )
        try:
            (tree / "models").symlink_to(here / "models")
            (tmp_path / "a").mkdir()
            (tmp_path / "b").mkdir()
            versions = {sys.argv[1]: _start(tree, tmp_path / "a")}
            try:
                versions["working tree"] = _start(here, tmp_path / "b")
                for round_ in range(1, ROUNDS + 1):
                    for name, bot in versions.items():
                        for conversations, seconds in LEVELS:
                            r = asyncio.run(
                                load.run_level(
                                    bot.url, conversations, WARMUP_S, seconds, "ab", bot.cpu_s
                                )
                            )
                            print(
                                f"round {round_} {name}: {conversations} conversations "
                                f"{r.throughput:.1f} msg/s, p50 {r.p50_ms:.0f} ms, "
                                f"p95 {r.p95_ms:.0f} ms, CPU {r.cpu_ms_per_message:.1f} ms/msg, "
                                f"{r.errors} errors",
                                flush=True,
                            )
            finally:
                for bot in versions.values():
                    bot.stop()
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=here)
    return 0


if __name__ == "__main__":
    sys.exit(main())
