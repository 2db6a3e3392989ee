"""``python -m bench.profile``: where Āwhina's servers spend their time under load.

Starts the full assistant as the benchmark does, runs 20 conversations at
once, and meanwhile samples the Rasa server and the action server with py-spy
(busy samples only: time spent waiting on the network or the database is not
counted). Writes ``bench/results/profile-<BENCH_LABEL>.md``: for the Rasa
server, the share of busy samples inside the functions issue 11 is about, where
a message's time goes (and that of ``MessageProcessor.log_message`` and of a
custom action), and the top functions by own time; for the action server, where
its request handling goes and its top functions. The raw stacks stay in
temporary files whose paths are printed (for a flamegraph);
``python -m bench.profile STACKS`` summarises a Rasa server's file again.
py-spy must be allowed to read the server's memory (root, or ptrace allowed).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench import bots, load
from bench.report import RESULTS

CONVERSATIONS = 20
SECONDS = 25
# (function, file) pairs the issue names: the action response check, the message
# logging, the prediction loop, and the tracker store.
WATCHED = (
    ("_validate_action_result", "rasa/core/actions/action.py"),
    ("validate_action_result", "bot/rasa_speedups.py"),
    ("log_message", "rasa/core/processor.py"),
    ("parse_message", "rasa/core/processor.py"),
    ("fetch_tracker_and_update_session", "rasa/core/processor.py"),
    ("_run_prediction_loop", "rasa/core/processor.py"),
    ("_run_action", "rasa/core/processor.py"),
    ("save_tracker", "rasa/core/processor.py"),
)


# Waiting that py-spy counts as busy because it happens in C below these frames: the
# event loop's select, and the action server's thread pool waiting for work.
IDLE_LEAVES = frozenset(
    ("serve (sanic/server/runners.py)", "_worker (concurrent/futures/thread.py)")
)


def _stacks(raw: Path) -> list[tuple[list[str], int]]:
    """py-spy's raw output (one ``frame;frame;... count`` line per distinct stack), without
    the stacks that only wait."""
    stacks = []
    for line in raw.read_text().splitlines():
        frames, _, count = line.rpartition(" ")
        if frames.split(";")[-1] not in IDLE_LEAVES:
            stacks.append((frames.split(";"), int(count)))
    return stacks


def _matches(frame: str, function: str, file: str) -> bool:
    return frame.startswith(f"{function} (") and file in frame


def _callees(
    stacks: list[tuple[list[str], int]], function: str, file: str, depth: int
) -> Counter[str]:
    """Samples inside ``function`` by the ``depth`` frames it called (``a → b``)."""
    callees: Counter[str] = Counter()
    for frames, count in stacks:
        for i, frame in enumerate(frames):
            if _matches(frame, function, file):
                callees[" → ".join(frames[i + 1 : i + 1 + depth]) or "(itself)"] += count
                break
    return callees


# Where the time of a message goes, and of the parts the issue is about.
BREAKDOWNS = (
    ("handle_message", "rasa/core/processor.py", 1),
    ("log_message", "rasa/core/processor.py", 2),
    ("run", "rasa/core/actions/action.py", 1),
)
# The action server: a request, the custom action it runs, and the database work the
# actions hand to worker threads (bot.db.run_db).
ACTION_SERVER_BREAKDOWNS = (
    ("webhook", "rasa_sdk/endpoint.py", 1),
    ("run", "rasa_sdk/executor.py", 2),
    ("unit", "bot/db.py", 1),
)


def summary(
    stacks: list[tuple[list[str], int]],
    label: str,
    server: str = "Rasa server",
    watched: tuple[tuple[str, str], ...] = WATCHED,
    breakdowns: tuple[tuple[str, str, int], ...] = BREAKDOWNS,
) -> str:
    """The profile in Markdown: watched functions, breakdowns, top own time."""
    total = sum(count for _, count in stacks)
    own: Counter[str] = Counter()
    for frames, count in stacks:
        own[frames[-1]] += count

    def share(n: int) -> str:
        return f"{100 * n / total:.1f}%"

    lines = [
        f"# Profile of Āwhina's {server}: {label}",
        "",
        f"py-spy, {CONVERSATIONS} conversations at once for {SECONDS} s, "
        f"{total:,} busy samples (waiting excluded); shares are of busy samples.",
        "",
    ]
    if watched:
        lines += ["| function | inclusive |", "|---|---:|"]
    for function, file in watched:
        n = sum(c for frames, c in stacks if any(_matches(f, function, file) for f in frames))
        lines.append(f"| `{function}` ({file}) | {share(n)} |")
    for function, file, depth in breakdowns:
        lines += ["", f"## Inside `{function}` ({file})", "", "| callee | share |", "|---|---:|"]
        callees = _callees(stacks, function, file, depth)
        lines += [f"| `{name}` | {share(n)} |" for name, n in callees.most_common(10)]
    lines += ["", "## Top functions, own time", "", "| function | share |", "|---|---:|"]
    lines += [f"| `{name}` | {share(n)} |" for name, n in own.most_common(25)]
    return "\n".join(lines) + "\n"


def main() -> int:
    label = os.environ.get("BENCH_LABEL", "latest")
    if len(sys.argv) > 1:  # summarise stacks recorded earlier
        print(summary(_stacks(Path(sys.argv[1])), label))
        return 0
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if py_spy is None:
        print("py-spy is not installed: .venv/bin/pip install -e '.[dev]'", file=sys.stderr)
        return 1
    workdir = Path(tempfile.mkdtemp(prefix="awhina-profile-"))
    raws = [workdir / "stacks-rasa.txt", workdir / "stacks-actions.txt"]
    bot = bots.start_awhina(workdir)
    try:
        spies = [
            subprocess.Popen(
                [py_spy, "record", "--pid", str(server.proc.pid), "--duration", str(SECONDS)]
                + ["--format", "raw", "--nolineno", "--nonblocking", "--output", str(raw)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
            for server, raw in zip(bot.servers, raws, strict=True)
        ]
        asyncio.run(load.run_level(bot.url, CONVERSATIONS, 0.0, SECONDS + 5, "profile", bot.cpu_s))
        for spy in spies:
            spy.wait(timeout=60)
    finally:
        bot.stop()
    out = RESULTS / f"profile-{label}.md"
    out.write_text(
        summary(_stacks(raws[0]), label)
        + "\n"
        + summary(_stacks(raws[1]), label, "action server", (), ACTION_SERVER_BREAKDOWNS),
        encoding="utf-8",
    )
    print(out.read_text())
    print(f"raw stacks: {', '.join(map(str, raws))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
