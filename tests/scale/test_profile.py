"""The production profile (endpoints.prod.yml, bot/replicas.py) against the development one."""

from __future__ import annotations

import re

import pytest
import yaml
from honcho.environ import parse_procfile

from bot import replicas
from bot.config import ROOT

# What the production profile changes: where the stores and the action servers are.
STORES = {"tracker_store", "lock_store", "action_endpoint"}


def _sections(path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_the_profile_differs_from_endpoints_yml_only_in_the_stores():
    development, production = _sections(ROOT / "endpoints.yml"), _sections(replicas.ENDPOINTS)
    assert set(production) >= STORES
    assert {k: v for k, v in production.items() if k not in STORES} == {
        k: v for k, v in development.items() if k not in STORES
    }
    assert production["tracker_store"]["type"] == development["tracker_store"]["type"]


def test_the_stores_come_from_one_url_each():
    env = replicas.stores_env(
        "postgresql://awhina:s%40cret@db.internal:6543/awhina", "redis://:pw@cache:6380"
    )
    assert env["DB_HOST"] == "db.internal" and env["DB_PORT"] == "6543"
    assert (env["DB_USER"], env["DB_PASSWORD"], env["DB_DATABASE"]) == (
        "awhina",
        "s@cret",
        "awhina",
    )
    assert (env["REDIS_HOST"], env["REDIS_PORT"], env["REDIS_PASSWORD"]) == ("cache", "6380", "pw")
    with pytest.raises(ValueError, match="PostgreSQL"):
        replicas.stores_env("sqlite:///var/awhina.db", "redis://cache")


def test_one_replica_fills_every_server_line():
    env = replicas.balancer_env("lb:5005", ["r1:5006"], "lb:5055", ["a1:5056", "a2:5057"])
    assert (env["RASA_1"], env["RASA_2"]) == ("r1:5006", "r1:5006")
    assert (env["ACTIONS_1"], env["ACTIONS_2"]) == ("a1:5056", "a2:5057")
    assert env["ACTION_SERVER_URL"] == "http://lb:5055/webhook"
    with pytest.raises(ValueError):
        replicas.balancer_env("lb:5005", [], "lb:5055", ["a1:5056"])


def test_the_local_procfile_listens_where_the_balancer_looks():
    processes = parse_procfile((ROOT / "deploy" / "Procfile.replicas").read_text()).processes
    env = replicas.local_env("postgresql://awhina@127.0.0.1/awhina")
    ports = {name: re.search(r"--port (\d+)", command) for name, command in processes.items()}
    for n in (1, 2):
        assert env[f"RASA_{n}"] == f"127.0.0.1:{ports[f'rasa{n}'][1]}"
        assert env[f"ACTIONS_{n}"] == f"127.0.0.1:{ports[f'actions{n}'][1]}"
        assert "--endpoints endpoints.prod.yml" in processes[f"rasa{n}"]
    assert env["REDIS_PORT"] == ports["redis"][1]
    assert env["RASA_BALANCER"] == "127.0.0.1:5005", "where make run's Rasa is"
