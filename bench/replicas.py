"""``python -m bench.replicas`` (``make bench-scale``): the production profile with one and
with two replicas behind HAProxy, under the same load as ``make bench``.

Each run starts what ``endpoints.prod.yml`` and ``deploy/haproxy.cfg`` describe on free
loopback ports: a throwaway Redis, N action servers, N Rasa servers (loading the model
at once) and HAProxy in front of both kinds, sharing the PostgreSQL database
``DATABASE_URL_SCALE`` (its directory is reloaded and its conversations emptied first).
With one replica both of the balancer's server lines name it, so every figure includes
the balancer's hop. Results: ``bench/results/replicas.md`` and ``replicas.json``.

On a machine with two cores, two replicas compete for the cores one already nearly
fills: the run shows that the cluster answers correctly under load (the errors column)
more than that it is faster.

Environment: ``BENCH_QUICK=1`` for shorter load phases; ``DATABASE_URL_SCALE`` is required.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import sqlalchemy as sa

from bench import bots, load, report
from bench.procs import Server, free_port
from bot import replicas
from bot.config import ROOT

LEVELS = (1, 10, 20, 50)
REPLICAS = (1, 2)


def _log(message: str) -> None:
    print(f"[bench replicas {time.strftime('%H:%M:%S')}] {message}", flush=True)


def prepare(db_url: str) -> None:
    """The directory and teams loaded, and no conversation left from an earlier run."""
    from bot.db import session_scope
    from bot.directory import seed
    from bot.handoff.routing import TEAMS_FILE, load_teams
    from bot.migrate import upgrade

    upgrade(db_url)
    with session_scope(db_url) as session:
        seed.load(session)
        load_teams(session, TEAMS_FILE)
    engine = sa.create_engine(db_url, future=True)
    try:
        if sa.inspect(engine).has_table("events"):
            with engine.begin() as connection:
                connection.execute(sa.text("TRUNCATE events"))
    finally:
        engine.dispose()


def start_cluster(count: int, db_url: str, workdir: Path) -> tuple[bots.Bot, float]:
    """``count`` Rasa servers and action servers behind HAProxy; the bot at the balancer,
    and the seconds from starting the processes until every replica answered."""
    redis_port = free_port()
    rasa_ports = [free_port() for _ in range(count)]
    actions_ports = [free_port() for _ in range(count)]
    env = {
        **bots.base_env(),
        **replicas.loopback_env(
            db_url,
            f"redis://127.0.0.1:{redis_port}",
            rasa_ports,
            actions_ports,
            (free_port(), free_port()),
        ),
        "RASA_TOKEN": bots.TOKEN,
    }
    log = workdir / f"replicas-{count}.log"
    began = time.monotonic()
    servers = [Server("Redis", replicas.redis_args(redis_port), ROOT, env, log)]
    profile = ("--endpoints", str(replicas.ENDPOINTS), "--credentials", "credentials.yml")
    rasas = [
        Server(f"Rasa server {n}", bots.rasa_run_args(bots.MODEL, port, *profile), ROOT, env, log)
        for n, port in enumerate(rasa_ports, 1)
    ]
    actions = [
        Server(
            f"action server {n}",
            [sys.executable, "-m", "bot", "actions", "--port", str(port)],
            ROOT,
            env,
            log,
        )
        for n, port in enumerate(actions_ports, 1)
    ]
    servers += [*rasas, *actions]
    cluster = bots.Bot(f"{count} replica(s)", env["RASA_URL"], servers)
    try:
        for rasa, port in zip(rasas, rasa_ports, strict=True):
            replica = bots.Bot(rasa.name, f"http://127.0.0.1:{port}", servers)
            bots._first_answer(replica, "kia ora")
        cold_start = time.monotonic() - began
        servers.append(Server("HAProxy", replicas.haproxy_args(), ROOT, env, log))
        bots._first_answer(cluster, "kia ora")
    except Exception:
        cluster.stop()
        raise
    return cluster, cold_start


async def _levels(bot: bots.Bot, count: int, warmup_s: float, duration_s: float) -> list:
    results = []
    for level in LEVELS:
        _log(f"{count} replica(s), {level} conversations at once")
        result = await load.run_level(
            bot.url, level, warmup_s, duration_s, f"r{count}-{level}-{os.getpid()}", bot.cpu_s
        )
        _log(
            f"  {result.throughput:.1f} msg/s, p50 {result.p50_ms:.0f} ms, "
            f"p95 {result.p95_ms:.0f} ms, {result.errors} errors"
        )
        results.append(asdict(result))
    return results


def markdown(r: dict) -> str:
    m = r["machine"]
    lines = [
        "# Benchmark: one and two replicas",
        "",
        f"{m['when']}, commit {m['commit']} (working tree as it was), "
        f"{'quick run' if r['quick'] else 'full run'} "
        f"in {r['duration_s'] / 60:.1f} min. Machine: {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gb']} GB, Python {m['python']}, Rasa {m['rasa']}; load average "
        f"{m['load_before']} before, {m['load_after']} after.",
        "",
        "The production profile (`endpoints.prod.yml`, `deploy/haproxy.cfg`): PostgreSQL for "
        "conversations and the directory, Redis for locks, HAProxy in front; the load is "
        "`make bench`'s (bench/load.py) over REST through the balancer. CPU is every "
        "process's CPU time (Rasa servers, action servers, Redis, HAProxy) per answered "
        "message. With one replica both of the balancer's server lines name it.",
        "",
        f"Read with care: a Rasa server uses at most one core, this machine has {m['cores']}, "
        "and other work shared them during the run (the load averages above). The run "
        "shows that two replicas answer every message correctly under load (the errors "
        "column) more than how much faster they are: how throughput grows with replicas "
        "needs a machine with a free core for each.",
        "",
        "| replicas | conversations | msg/s | p50 (ms) | p95 (ms) | CPU/msg (ms) | errors |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in r["runs"]:
        for level in run["load"]:
            lines.append(
                f"| {run['replicas']} | {level['concurrency']} | {level['throughput']:.1f} "
                f"| {level['p50_ms']:,.0f} | {level['p95_ms']:,.0f} "
                f"| {level['cpu_ms_per_message']:,.0f} | {level['errors']} |"
            )
    lines += [
        "",
        "| replicas | every replica answering (s) | peak RSS per process (MB) |",
        "|---:|---:|---|",
    ]
    for run in r["runs"]:
        rss = ", ".join(f"{name} {mb:.0f}" for name, mb in run["peak_rss_mb"].items())
        lines.append(f"| {run['replicas']} | {run['cold_start_s']:.1f} | {rss} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    db_url = os.environ.get("DATABASE_URL_SCALE")
    if not db_url:
        print("DATABASE_URL_SCALE must name a PostgreSQL database (see .ci/run)", file=sys.stderr)
        return 2
    quick = os.environ.get("BENCH_QUICK") == "1"
    warmup_s, duration_s = (3.0, 8.0) if quick else (5.0, 15.0)
    began = time.monotonic()
    results: dict = {"quick": quick, "machine": report.machine(), "runs": []}
    with tempfile.TemporaryDirectory(prefix="awhina-bench-scale-") as tmp:
        for count in REPLICAS:
            _log(f"preparing {db_url.rsplit('/', 1)[-1]}; starting {count} replica(s)")
            prepare(db_url)
            cluster, cold_start = start_cluster(count, db_url, Path(tmp))
            try:
                _log(f"every replica answered after {cold_start:.1f}s")
                figures = asyncio.run(_levels(cluster, count, warmup_s, duration_s))
                rss = {server.name: server.peak_rss_mb() for server in cluster.servers}
            finally:
                cluster.stop()
            results["runs"].append(
                {"replicas": count, "cold_start_s": cold_start, "load": figures, "peak_rss_mb": rss}
            )
    results["duration_s"] = time.monotonic() - began
    results["machine"]["load_after"] = report.load_average()
    report.RESULTS.mkdir(exist_ok=True)
    (report.RESULTS / "replicas.json").write_text(json.dumps(results, indent=2) + "\n")
    text = markdown(results)
    (report.RESULTS / "replicas.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
