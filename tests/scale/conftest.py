"""Two Rasa replicas and two action servers behind HAProxy, sharing PostgreSQL and Redis.

The production profile as it is deployed: ``endpoints.prod.yml``, ``deploy/haproxy.cfg``
and the environment ``bot/replicas.py`` derives, on free loopback ports. PostgreSQL is
``DATABASE_URL_SCALE`` (``.ci/run`` creates it); Redis and HAProxy are Debian's, started
here. Without them the tests are skipped, except in CI, where they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import redis
import requests

from bot import replicas
from bot.config import ROOT
from tests.conftest import _fresh
from tests.e2e.conftest import (
    MODEL,
    TOKEN,
    free_port,
    model_loaded,
    prepare_database,
    start_actions,
    start_rasa,
    wait_for,
)

SCALE_URL = os.environ.get("DATABASE_URL_SCALE")


@dataclass
class Cluster:
    balancer_url: str  # where the widget, the web app and the inbox reach Rasa
    replica_urls: list[str]  # each Rasa server directly
    widget_origin: str  # an origin the socket.io channel allows
    db_url: str

    def chat(self, url: str, sender: str, message: str) -> list[str]:
        """The texts Rasa at ``url`` answers ``message`` with, over the REST channel."""
        response = requests.post(
            f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=90
        )
        response.raise_for_status()
        return [reply.get("text", "") for reply in response.json()]

    def events(self, url: str, sender: str) -> list[dict]:
        response = requests.get(
            f"{url}/conversations/{sender}/tracker", params={"token": TOKEN}, timeout=30
        )
        response.raise_for_status()
        return response.json()["events"]


def _missing(binaries: tuple[str, ...], database: bool) -> str | None:
    """Why the tests cannot run here, if they cannot."""
    absent = [name for name in binaries if shutil.which(name) is None]
    if absent:
        return f"{' and '.join(absent)} not installed (apt-get install haproxy redis-server)"
    if database and not SCALE_URL:
        return "DATABASE_URL_SCALE not set (a PostgreSQL database; .ci/run creates one)"
    return None


def _needed(binaries: tuple[str, ...], database: bool = False) -> None:
    """Skips, or fails in CI, when Debian's HAProxy or Redis or the database is missing."""
    reason = _missing(binaries, database)
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"the replicas tests must run in CI: {reason}")
        pytest.skip(reason)


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway Redis server on a free loopback port."""
    _needed(("redis-server",))
    port = free_port()
    log = tmp_path_factory.mktemp("redis") / "redis.log"
    proc = subprocess.Popen(
        replicas.redis_args(port), stdout=log.open("ab"), stderr=subprocess.STDOUT
    )
    url = f"redis://127.0.0.1:{port}"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        else:
            raise TimeoutError(log.read_text(errors="replace"))
        yield url
    finally:
        client.close()
        _stop([proc])


@pytest.fixture(scope="module")  # stopped once its tests are done, not at the session's end
def cluster(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Cluster]:
    _needed(("haproxy",), database=True)
    if not MODEL.exists():
        pytest.fail("No trained model: run `make train` (make test does it first)")
    assert SCALE_URL is not None
    workdir = tmp_path_factory.mktemp("scale")
    db_url = _fresh(SCALE_URL)
    prepare_database(db_url)
    widget_port = free_port()
    rasa_ports, actions_ports = [free_port(), free_port()], [free_port(), free_port()]
    env = {
        **os.environ,
        **replicas.loopback_env(
            db_url, redis_url, rasa_ports, actions_ports, (free_port(), free_port())
        ),
        "RASA_TOKEN": TOKEN,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RASA_TELEMETRY_ENABLED": "false",
        "WIDGET_ALLOWED_ORIGINS": f"http://127.0.0.1:{widget_port}",
    }
    log = workdir / "cluster.log"

    def start(args: list[str]) -> subprocess.Popen:
        return subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
        )

    procs = [start_actions(env, port, log) for port in actions_ports]
    # Both replicas load the model at once: on two cores that is most of the wait.
    procs += [start_rasa(env, port, replicas.ENDPOINTS, log) for port in rasa_ports]
    replica_urls = [f"http://127.0.0.1:{port}" for port in rasa_ports]
    try:
        for port in actions_ports:
            wait_for(f"http://127.0.0.1:{port}/health", 90, procs)
        with ThreadPoolExecutor(len(replica_urls)) as pool:
            waits = [
                pool.submit(wait_for, f"{url}/status?token={TOKEN}", 240, procs, model_loaded)
                for url in replica_urls
            ]
            for waiting in waits:
                waiting.result()
        procs.append(start(replicas.haproxy_args()))
        balancer_url = env["RASA_URL"]
        wait_for(f"{balancer_url}/status?token={TOKEN}", 30, procs, model_loaded)
        yield Cluster(balancer_url, replica_urls, f"http://127.0.0.1:{widget_port}", db_url)
    except Exception:
        print(log.read_text(errors="replace")[-5000:])
        raise
    finally:
        _stop(procs)
