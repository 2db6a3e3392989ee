"""The benchmark's Markdown table, JSON figures and PNG chart (``bench/results/``).

``python -m bench.report BEFORE AFTER`` prints a Markdown table comparing two
result files by label (e.g. ``before`` and ``after``), with each run's ratios
to the stock bot measured in that same run.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure  # no pyplot: a file, never a window
from matplotlib.ticker import ScalarFormatter

from bench.bots import RASA_VERSION
from bot.config import ROOT

RESULTS = Path(__file__).resolve().parent / "results"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine() -> dict[str, Any]:
    """Where the figures come from: they mean little without it."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "rasa": RASA_VERSION,
        "commit": commit,
        "load_before": load_average(),
    }


def _ratio(ours: float | None, stock: float | None) -> str:
    if not ours or not stock:
        return "–"
    return f"{ours / stock:.2f}×"


def _ms(value: float) -> str:
    return f"{value:,.0f}"


def markdown(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [
        f"# Benchmark: {r['label']}",
        "",
        f"{m['when']}, commit {m['commit']} (working tree as it was), "
        f"{'quick run' if r['quick'] else 'full run'} in {r['duration_s'] / 60:.1f} min.",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['os']}, "
        f"Python {m['python']}, Rasa {m['rasa']}; load average {m['load_before']} before, "
        f"{m.get('load_after', '?')} after (other work on the machine makes every "
        "figure noisy: compare the ratios to the stock bot, measured in the same run).",
        "",
        "## Conversations over REST (closed loop, no thinking time)",
        "",
        "Latencies in ms; CPU is the bot's processes' CPU time per answered message. "
        "Ratios are Āwhina ÷ stock (above 1: Āwhina is slower, or faster for msg/s).",
        "",
        "| conversations | Āwhina msg/s | stock msg/s | ratio | Āwhina p50 | stock p50 | ratio "
        "| Āwhina p95 | stock p95 | ratio | Āwhina CPU/msg | stock CPU/msg | ratio | errors |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for ours, stock in zip(r["load"]["awhina"], r["load"]["stock"], strict=True):
        lines.append(
            f"| {ours['concurrency']} | {ours['throughput']:.1f} | {stock['throughput']:.1f} "
            f"| {_ratio(ours['throughput'], stock['throughput'])} "
            f"| {_ms(ours['p50_ms'])} | {_ms(stock['p50_ms'])} "
            f"| {_ratio(ours['p50_ms'], stock['p50_ms'])} "
            f"| {_ms(ours['p95_ms'])} | {_ms(stock['p95_ms'])} "
            f"| {_ratio(ours['p95_ms'], stock['p95_ms'])} "
            f"| {_ms(ours['cpu_ms_per_message'])} | {_ms(stock['cpu_ms_per_message'])} "
            f"| {_ratio(ours['cpu_ms_per_message'], stock['cpu_ms_per_message'])} "
            f"| {ours['errors']} / {stock['errors']} |"
        )
    lines += _round_ratios(r)
    nlu_ours, nlu_stock = r["nlu"]["awhina"], r["nlu"]["stock"]
    training = r["training"]
    ours_train, stock_train = training["awhina"], training["stock"]
    rss = r["peak_rss_mb"]
    lines += [
        "",
        "## Start-up, NLU, training, memory",
        "",
        "| | Āwhina | stock | ratio |",
        "|---|---:|---:|---:|",
        f"| NLU alone, /model/parse p50 (ms) | {nlu_ours['p50_ms']:.1f} "
        f"| {nlu_stock['p50_ms']:.1f} | {_ratio(nlu_ours['p50_ms'], nlu_stock['p50_ms'])} |",
        f"| NLU alone, /model/parse p95 (ms) | {nlu_ours['p95_ms']:.1f} "
        f"| {nlu_stock['p95_ms']:.1f} | {_ratio(nlu_ours['p95_ms'], nlu_stock['p95_ms'])} |",
        f"| cold start to first answer (s) | {r['cold_start_s']['awhina']:.1f} "
        f"| {r['cold_start_s']['stock']:.1f} "
        f"| {_ratio(r['cold_start_s']['awhina'], r['cold_start_s']['stock'])} |",
    ]
    if ours_train:
        lines += [
            f"| training from scratch, wall (s) | {ours_train['wall_s']:.0f} "
            f"| {stock_train['wall_s']:.0f} "
            f"| {_ratio(ours_train['wall_s'], stock_train['wall_s'])} |",
            f"| training from scratch, CPU (s) | {ours_train['cpu_s']:.0f} "
            f"| {stock_train['cpu_s']:.0f} | {_ratio(ours_train['cpu_s'], stock_train['cpu_s'])} |",
            f"| training, peak RSS (MB) | {ours_train['peak_rss_mb']:.0f} "
            f"| {stock_train['peak_rss_mb']:.0f} "
            f"| {_ratio(ours_train['peak_rss_mb'], stock_train['peak_rss_mb'])} |",
        ]
    else:
        lines.append(
            f"| training from scratch, wall / CPU (s) | not in a quick run "
            f"| {stock_train['wall_s']:.0f} / {stock_train['cpu_s']:.0f} | – |"
        )
    ours_rss = rss["Āwhina's Rasa server"]
    stock_rss = rss["stock Rasa server"]
    lines += [
        f"| Rasa server peak RSS (MB) | {ours_rss:.0f} | {stock_rss:.0f} "
        f"| {_ratio(ours_rss, stock_rss)} |",
        f"| action server peak RSS (MB) | {rss['action server']:.0f} | none | – |",
        "",
        "The stock bot is trained once per Rasa version and kept in a temporary folder; its "
        "training figures are from that build (possibly under other load).",
        "",
        "## Directory search (bot.directory.query, generated services)",
        "",
        "| engine | services | searches | p50 (ms) | p95 (ms) | shown per search "
        "| follow-up by ids p95 (ms) | by name p95 (ms) | build (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for d in r["directory"]:
        lines.append(
            f"| {d.get('engine', 'sqlite')} | {d['services']:,} | {d['queries']} "
            f"| {d['p50_ms']:.1f} | {d['p95_ms']:.1f} | {d['mean_results']:.0f} "
            f"| {d.get('by_ids_p95_ms', float('nan')):.1f} "
            f"| {d.get('by_name_p95_ms', float('nan')):.1f} | {d['build_s']:.0f} |"
        )
    urgent = r.get("urgent")
    if urgent:
        lines += [
            "",
            "## A message of danger under load (Āwhina)",
            "",
            f"{urgent['probes']} messages of danger, one every half second, each in a "
            f"conversation of its own, while {urgent['concurrency']} conversations load the "
            "bot: a crisis message goes ahead of the turn queue (bot/turn_queue.py).",
            "",
            "| given 111 or 1737 | p50 (ms) | slowest (ms) | the other messages' p50 (ms) |",
            "|---:|---:|---:|---:|",
            f"| {urgent['helped']} / {urgent['probes']} | {_ms(urgent['p50_ms'])} "
            f"| {_ms(urgent['max_ms'])} | {_ms(urgent['others_p50_ms'])} |",
        ]
    lines += ["", f"![latency and throughput against concurrency]({r['label']}.png)", ""]
    return "\n".join(lines)


def _round_ratios(r: dict[str, Any]) -> list[str]:
    """Each round's throughput ratio, level by level, when the levels were measured in
    rounds (Āwhina's round, then the stock bot's)."""
    rows = [
        f"| {ours['concurrency']} | "
        + ", ".join(
            _ratio(a, b)
            for a, b in zip(ours["round_throughputs"], stock["round_throughputs"], strict=True)
        )
        + " |"
        for ours, stock in zip(r["load"]["awhina"], r["load"]["stock"], strict=True)
        if ours.get("round_throughputs") and stock.get("round_throughputs")
    ]
    if not rows:
        return []
    return [
        "",
        "Each level was measured in rounds, the two bots in turn (Āwhina, stock, Āwhina, "
        "...); the table above pools them. The throughput ratio of each round:",
        "",
        "| conversations | Āwhina ÷ stock, round by round |",
        "|---:|---|",
        *rows,
    ]


def chart(r: dict[str, Any], path: Path) -> None:
    """Latency percentiles and throughput against concurrency, Āwhina against stock."""
    fig = Figure(figsize=(11, 4.2))
    latency, throughput = fig.subplots(1, 2)
    bots = (("awhina", "Āwhina", "-", "tab:blue"), ("stock", "stock Rasa bot", "--", "tab:orange"))
    for key, name, style, colour in bots:
        levels = r["load"][key]
        x = [level["concurrency"] for level in levels]
        for pct, marker in (("p50", "o"), ("p95", "^")):
            y = [level[f"{pct}_ms"] for level in levels]
            latency.plot(x, y, style, color=colour, marker=marker, label=f"{name} {pct}")
        y = [level["throughput"] for level in levels]
        throughput.plot(x, y, style, color=colour, marker="o", label=name)
    latency.set(xscale="log", yscale="log", xlabel="conversations at once", ylabel="latency (ms)")
    throughput.set(xscale="log", xlabel="conversations at once", ylabel="messages per second")
    throughput.set_ylim(bottom=0)
    for axes in (latency, throughput):
        axes.set_xticks([level["concurrency"] for level in r["load"]["awhina"]])
        axes.get_xaxis().set_major_formatter(ScalarFormatter())
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
    m = r["machine"]
    fig.suptitle(f"{r['label']}: {m['cores']} cores, {m['when']} (load {m['load_before']})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write(r: dict[str, Any], out: Path, label: str) -> list[Path]:
    """Writes ``label``.md, .json and .png into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    md, raw, png = (out / f"{label}.{ext}" for ext in ("md", "json", "png"))
    raw.write_text(json.dumps(r, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    md.write_text(markdown(r), encoding="utf-8")
    chart(r, png)
    return [md, raw, png]


def compare(before: dict[str, Any], after: dict[str, Any]) -> str:
    """A Markdown table of two runs: Āwhina's figures and their ratios to stock, in each."""
    lines = [
        f"| | {before['label']} | ratio to stock | {after['label']} | ratio to stock |",
        "|---|---:|---:|---:|---:|",
    ]

    def row(name: str, pick: Any, fmt: str = "{:,.0f}") -> None:
        cells = []
        for r in (before, after):
            ours, stock = pick(r, "awhina"), pick(r, "stock")
            cells += [fmt.format(ours), _ratio(ours, stock)]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    for i, level in enumerate(before["load"]["awhina"]):
        n = level["concurrency"]
        row(f"msg/s, {n} at once", lambda r, k, i=i: r["load"][k][i]["throughput"], "{:.1f}")
        row(f"p50 ms, {n} at once", lambda r, k, i=i: r["load"][k][i]["p50_ms"])
        row(f"p95 ms, {n} at once", lambda r, k, i=i: r["load"][k][i]["p95_ms"])
        row(f"CPU ms/msg, {n} at once", lambda r, k, i=i: r["load"][k][i]["cpu_ms_per_message"])
    row("NLU p50 ms", lambda r, k: r["nlu"][k]["p50_ms"], "{:.1f}")
    row("cold start s", lambda r, k: r["cold_start_s"][k], "{:.1f}")
    return "\n".join(lines)


if __name__ == "__main__":
    first, second = (
        json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8")) for name in sys.argv[1:3]
    )
    print(compare(first, second))
