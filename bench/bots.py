"""The two bots under test, trained and started on free loopback ports.

Āwhina runs as in ``tests/e2e/conftest.py``: the Rasa server with the trained
model (``models/current.tar.gz``), the action server, and a fresh SQLite
database seeded with the real directory that holds both the directory and
Rasa's conversations. The stock bot is the project ``rasa init --no-prompt``
writes (DIET and TED, conversations kept in memory), trained with this
project's own Rasa in a temporary folder outside the repository.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

import requests

from bench.procs import Finished, Server, free_port, run_measured
from bot.config import ROOT

MODEL = ROOT / "models" / "current.tar.gz"
TOKEN = "bench-token"
RASA_VERSION = version("rasa")
# Where the stock bot is built once per Rasa version: training it (TensorFlow,
# 100 epochs each for DIET and TED) takes minutes on two cores, more than the
# rest of the run. Its training figures are kept with it.
STOCK_DIR = Path(tempfile.gettempdir()) / f"awhina-bench-stock-rasa{RASA_VERSION}"
# `make train` holds this lock; training here waits for it too, so a concurrent
# rebuild of the spaCy pipeline never happens under our feet.
TRAIN_LOCK = Path("/tmp/awhina-train.lock")
TRAIN_TIMEOUT_S = 900
START_TIMEOUT_S = 600


def base_env() -> dict[str, str]:
    return {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def rasa_run_args(model: Path, port: int, *extra: str, cli: str = "bot.rasa_cli") -> list[str]:
    """``rasa run`` with ``model`` on ``port``: Āwhina's as the Procfile starts it, or
    with ``cli="rasa"`` as Rasa's own command starts the stock bot."""
    return [
        sys.executable,
        "-m",
        cli,
        "run",
        "--model",
        str(model),
        "--interface",
        "127.0.0.1",
        "--port",
        str(port),
        "--enable-api",
        "--auth-token",
        TOKEN,
        *extra,
    ]


@dataclass
class Bot:
    """A running bot: its REST base URL, its processes (Rasa first), and how long it took
    from starting the processes to the first answer."""

    name: str
    url: str
    servers: list[Server]
    cold_start_s: float = 0.0

    @property
    def rasa(self) -> Server:
        return self.servers[0]

    def cpu_s(self) -> float:
        return sum(server.cpu_s() for server in self.servers)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def _first_answer(bot: Bot, message: str) -> float:
    """When (``time.monotonic()``) the webhook first answers ``message``; Rasa listens only
    once its model is loaded."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        for server in bot.servers:
            server.check_alive()
        try:
            response = requests.post(
                f"{bot.url}/webhooks/rest/webhook",
                json={"sender": "bench-cold-start", "message": message},
                timeout=60,
            )
            if response.ok and response.json():
                return time.monotonic()
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{bot.name} gave no answer in {START_TIMEOUT_S}s")


def _started(bot: Bot, began: float) -> Bot:
    try:
        bot.cold_start_s = _first_answer(bot, "kia ora") - began
    except Exception:
        bot.stop()
        raise
    return bot


def start_awhina(workdir: Path, model: Path = MODEL) -> Bot:
    """The full assistant on free ports, with a fresh seeded SQLite database in ``workdir``."""
    from bot.db import session_scope
    from bot.directory import seed
    from bot.handoff.routing import TEAMS_FILE, load_teams
    from bot.migrate import upgrade

    db_path = workdir / "awhina-bench.db"
    db_url = f"sqlite:///{db_path}"
    upgrade(db_url)
    with session_scope(db_url) as session:
        seed.load(session)
        load_teams(session, TEAMS_FILE)
    rasa_port, actions_port = free_port(), free_port()
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
        "tracker_store:\n  type: bot.privacy.ForgetfulSQLTrackerStore\n"
        f'  dialect: "sqlite"\n  db: "{db_path}"\n'
        "nlg:\n  type: bot.replies.ReplyGenerator\n"
    )
    env = {
        **base_env(),
        "DATABASE_URL": db_url,
        "RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "RASA_TOKEN": TOKEN,
    }
    log = workdir / "awhina.log"
    began = time.monotonic()
    actions = Server(
        "action server",
        [sys.executable, "-m", "bot", "actions", "--port", str(actions_port)],
        ROOT,
        env,
        log,
    )
    rasa = Server(
        "Āwhina's Rasa server",
        rasa_run_args(
            model,
            rasa_port,
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(ROOT / "credentials.yml"),
        ),
        ROOT,
        env,
        log,
    )
    return _started(Bot("Āwhina", f"http://127.0.0.1:{rasa_port}", [rasa, actions]), began)


def start_stock(project: Path, workdir: Path) -> Bot:
    """The stock starter bot (REST channel, in-memory conversations) on a free port."""
    port = free_port()
    began = time.monotonic()
    rasa = Server(
        "stock Rasa server",
        rasa_run_args(project / "models" / "stock.tar.gz", port, cli="rasa"),
        project,
        base_env(),
        workdir / "stock.log",
    )
    return _started(Bot("stock", f"http://127.0.0.1:{port}", [rasa]), began)


@contextmanager
def _train_lock() -> Iterator[None]:
    with TRAIN_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _train(cwd: Path, out: Path, name: str, log: Path, *data_args: str) -> Finished:
    """``rasa train`` from scratch: Rasa's training cache points at an empty folder, or an
    unchanged project would be "trained" in seconds from the cache."""
    with tempfile.TemporaryDirectory(prefix="rasa-cache-") as cache:
        env = {**base_env(), "RASA_CACHE_DIRECTORY": cache}
        args = [sys.executable, "-m", "rasa", "train", *data_args, "--out", str(out)]
        return run_measured(
            [*args, "--fixed-model-name", name], cwd, env, log, timeout_s=TRAIN_TIMEOUT_S
        )


def train_awhina(workdir: Path) -> Finished:
    """Trains Āwhina's model from the working tree into ``workdir`` (not models/)."""
    with _train_lock():
        return _train(
            ROOT,
            workdir / "models",
            "awhina",
            workdir / "train-awhina.log",
            "--config",
            "config.yml",
            "--domain",
            "domain.yml",
            "--data",
            "data/nlu",
            "data/stories",
            "data/rules",
        )


def stock_project(rebuild: bool) -> tuple[Path, Finished]:
    """The trained stock bot and its training figures, built on first use.

    It is built in a sibling folder and renamed into place, so two benchmarks
    started at once never use a half-trained bot.
    """
    meta = STOCK_DIR / "training.json"
    if meta.exists() and not rebuild:
        return STOCK_DIR, Finished(**json.loads(meta.read_text()))
    building = Path(tempfile.mkdtemp(prefix=f"{STOCK_DIR.name}-building-"))
    spec = importlib.util.find_spec("rasa")
    assert spec and spec.submodule_search_locations
    # What `rasa init --no-prompt` writes (rasa.cli.scaffold.create_initial_project).
    template = Path(spec.submodule_search_locations[0]) / "cli" / "initial_project"
    shutil.copytree(template, building, dirs_exist_ok=True)
    training = _train(building, building / "models", "stock", building / "train.log")
    if training.returncode != 0:
        raise RuntimeError(f"training the stock bot failed: see {building / 'train.log'}")
    (building / "training.json").write_text(json.dumps(asdict(training)))
    shutil.rmtree(STOCK_DIR, ignore_errors=True)
    building.rename(STOCK_DIR)
    return STOCK_DIR, training
