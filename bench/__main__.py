"""``python -m bench`` (``make bench``): the whole benchmark, then the table and the chart.

Order matters on a small machine: training and the directory searches run
before any server is up, each bot's cold start is measured while the other is
idle, and at each concurrency Āwhina and the stock bot are loaded in turn,
``ROUNDS`` times each (Āwhina, stock, Āwhina, stock, ...), so both see the same
background load as far as possible: on a shared machine its speed drifts over
a run by as much as a change does, and one window each would credit that drift
to whichever bot it favoured. Each bot's figures pool its rounds (throughput over
their total time, percentiles over every message); each round's throughput is
kept too, so the spread of the ratio shows.

Environment: ``BENCH_QUICK=1`` for a shorter run (no training, shorter load
phases, no 100,000-service directory); ``BENCH_LABEL`` names the result files
(default ``latest``); ``BENCH_REBUILD_STOCK=1`` retrains the cached stock bot.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from bench import bots, directory, load, report

LEVELS = (1, 10, 20, 50)
ROUNDS = 3
# Messages of danger sent while this many conversations load Āwhina (load.run_urgent).
URGENT_LOAD, URGENT_PROBES = 50, 10


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def main() -> int:
    quick = os.environ.get("BENCH_QUICK") == "1"
    label = os.environ.get("BENCH_LABEL", "latest")
    # Per round: a warm-up, then the measured window (three rounds: 24 s measured a level
    # and bot).
    warmup_s, duration_s = (2.0, 3.0) if quick else (3.0, 8.0)
    sizes = (100, 10_000) if quick else (100, 10_000, 100_000)
    began = time.monotonic()
    results: dict = {"label": label, "quick": quick, "machine": report.machine()}

    _log("stock bot: the project `rasa init --no-prompt` writes, trained once per Rasa version")
    stock_dir, stock_training = bots.stock_project(os.environ.get("BENCH_REBUILD_STOCK") == "1")
    with tempfile.TemporaryDirectory(prefix="awhina-bench-") as tmp:
        workdir = Path(tmp)
        results["training"] = {"stock": asdict(stock_training), "awhina": None}
        if not quick:
            _log("training Āwhina from scratch (waits for /tmp/awhina-train.lock)")
            training = bots.train_awhina(workdir)
            results["training"]["awhina"] = asdict(training)
            if training.returncode != 0:
                _log(f"training failed (see {workdir / 'train-awhina.log'}); carrying on")
        results["directory"] = []
        for engine in directory.engines():  # PostgreSQL too when BENCH_DATABASE_URL names one
            for size in sizes:
                _log(f"directory search with {size:,} generated services on {engine}")
                results["directory"].append(asdict(directory.measure(size, engine)))

        _log("starting Āwhina (Rasa server, action server, seeded SQLite)")
        ours = bots.start_awhina(workdir)
        try:
            _log(f"Āwhina answered after {ours.cold_start_s:.1f}s; starting the stock bot")
            stock = bots.start_stock(stock_dir, workdir)
            try:
                results.update(asyncio.run(_load(ours, stock, warmup_s, duration_s)))
            finally:
                stock.stop()
        finally:
            ours.stop()

    results["duration_s"] = time.monotonic() - began
    results["machine"]["load_after"] = report.load_average()
    paths = report.write(results, report.RESULTS, label)
    _log(f"done in {results['duration_s'] / 60:.1f} min: " + ", ".join(map(str, paths)))
    print(paths[0].read_text())
    return 0


async def _load(
    ours: bots.Bot, stock: bots.Bot, warmup_s: float, duration_s: float
) -> dict[str, object]:
    """Cold starts, NLU alone, the load levels and peak memory, for both running bots."""
    pair = {"awhina": ours, "stock": stock}
    figures: dict[str, object] = {
        "cold_start_s": {key: bot.cold_start_s for key, bot in pair.items()},
        "nlu": {},
        "load": {key: [] for key in pair},
    }
    for key, bot in pair.items():
        _log(f"NLU alone (/model/parse): {bot.name}")
        parse = await load.run_parse(bot.url, bots.TOKEN, duration_s, bot.rasa.cpu_s)
        figures["nlu"][key] = asdict(parse)
    for level in LEVELS:
        rounds: dict[str, list[load.Measured]] = {key: [] for key in pair}
        for round_ in range(1, ROUNDS + 1):
            for key, bot in pair.items():
                _log(f"{level} conversations at once, round {round_}: {bot.name}")
                tag = f"{key}-{level}-{round_}"
                measured = await load.measure_level(
                    bot.url, level, warmup_s, duration_s, tag, bot.cpu_s
                )
                rounds[key].append(measured)
        for key, bot in pair.items():
            result = load.pooled(rounds[key], level)
            figures["load"][key].append(asdict(result))
            _log(
                f"  {bot.name}: {result.throughput:.1f} msg/s, p50 {result.p50_ms:.0f} ms, "
                f"p95 {result.p95_ms:.0f} ms, {result.errors} errors"
            )
    _log(f"messages of danger while {URGENT_LOAD} conversations load Āwhina")
    urgent = await load.run_urgent(ours.url, URGENT_LOAD, warmup_s, URGENT_PROBES, ours.cpu_s)
    figures["urgent"] = asdict(urgent)
    _log(f"  {urgent.helped}/{urgent.probes} given crisis help, p50 {urgent.p50_ms:.0f} ms")
    figures["peak_rss_mb"] = {
        server.name: server.peak_rss_mb() for bot in pair.values() for server in bot.servers
    }
    return figures


if __name__ == "__main__":
    sys.exit(main())
