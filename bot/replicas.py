"""The production profile's environment, for several Rasa servers and action servers.

``endpoints.prod.yml`` reads PostgreSQL and Redis from the variables Rasa's Helm chart
sets (``DB_HOST``, ``REDIS_HOST`` and so on) and ``deploy/haproxy.cfg`` reads its
addresses from ``RASA_1``, ``ACTIONS_1`` and so on. Local runs (the replicas test,
``make bench-scale``) derive them here from one URL for each store and the servers'
addresses, so the names live in one place beside the files that read them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

import sqlalchemy as sa

from bot.config import ROOT

ENDPOINTS = ROOT / "endpoints.prod.yml"
HAPROXY_CONFIG = ROOT / "deploy" / "haproxy.cfg"
# How many servers of each kind deploy/haproxy.cfg lists (RASA_1, RASA_2, ...).
BALANCED = 2


def stores_env(database_url: str, redis_url: str) -> dict[str, str]:
    """PostgreSQL for conversations and the directory, Redis for locks and widget rooms."""
    try:
        db = sa.engine.make_url(database_url)
    except sa.exc.ArgumentError as exc:
        raise ValueError(f"not a database URL: {database_url!r}") from exc
    if not db.drivername.startswith("postgresql"):
        raise ValueError("the production profile keeps conversations in PostgreSQL")
    redis = urlsplit(redis_url)
    if redis.scheme not in ("redis", "rediss") or not redis.hostname:
        raise ValueError("the Redis URL must look like redis://[:password@]host[:port]")
    return {
        "DATABASE_URL": database_url,
        "DB_HOST": db.host or "127.0.0.1",
        "DB_PORT": str(db.port or 5432),
        "DB_USER": db.username or "",
        "DB_PASSWORD": db.password or "",
        "DB_DATABASE": db.database or "",
        "REDIS_HOST": redis.hostname,
        "REDIS_PORT": str(redis.port or 6379),
        "REDIS_PASSWORD": redis.password or "",
        "WIDGET_REDIS_URL": redis_url,
    }


def _servers(kind: str, addresses: Sequence[str]) -> dict[str, str]:
    """``KIND_1`` .. ``KIND_n`` for the config's server lines; with fewer replicas than
    lines, the last address fills the rest (one server listed twice is still one)."""
    if not 1 <= len(addresses) <= BALANCED:
        raise ValueError(f"deploy/haproxy.cfg balances 1 to {BALANCED} servers of each kind")
    padded = [*addresses, *[addresses[-1]] * (BALANCED - len(addresses))]
    return {f"{kind}_{n}": address for n, address in enumerate(padded, 1)}


def balancer_env(
    rasa_balancer: str, rasa: Sequence[str], actions_balancer: str, actions: Sequence[str]
) -> dict[str, str]:
    """deploy/haproxy.cfg's addresses (``host:port``), and where Rasa, the web app and the
    inbox find the servers: every call goes through the balancer."""
    return {
        "RASA_BALANCER": rasa_balancer,
        "ACTIONS_BALANCER": actions_balancer,
        **_servers("RASA", rasa),
        **_servers("ACTIONS", actions),
        "ACTION_SERVER_URL": f"http://{actions_balancer}/webhook",
        "RASA_URL": f"http://{rasa_balancer}",
    }


def redis_args(port: int) -> list[str]:
    """A throwaway Debian ``redis-server`` on loopback that saves nothing to disk."""
    return [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]


def haproxy_args() -> list[str]:
    """HAProxy in the foreground with the profile's config (addresses from the environment)."""
    return ["haproxy", "-db", "-f", str(HAPROXY_CONFIG)]


def loopback_env(
    database_url: str,
    redis_url: str,
    rasa_ports: Sequence[int],
    actions_ports: Sequence[int],
    balancer_ports: tuple[int, int],
) -> dict[str, str]:
    """The whole profile on one machine: Rasa servers, action servers and the balancer
    (Rasa's side, then the action servers' side) on these loopback ports."""

    def loopback(ports: Sequence[int]) -> list[str]:
        return [f"127.0.0.1:{port}" for port in ports]

    rasa_balancer, actions_balancer = loopback(balancer_ports)
    return {
        **stores_env(database_url, redis_url),
        **balancer_env(
            rasa_balancer, loopback(rasa_ports), actions_balancer, loopback(actions_ports)
        ),
    }


# deploy/Procfile.replicas's ports: the balancer where the Procfile's Rasa and action
# server are on one machine (5005, 5055), the replicas beside them.
LOCAL_REDIS = "redis://127.0.0.1:6380"


def local_env(database_url: str, redis_url: str = LOCAL_REDIS) -> dict[str, str]:
    """Everything deploy/Procfile.replicas needs beyond .env."""
    return loopback_env(database_url, redis_url, (5006, 5007), (5056, 5057), (5005, 5055))


def main() -> int:
    """``python -m bot.replicas``: prints deploy/Procfile.replicas's environment for
    ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` (default a local Redis on 6380)."""
    database_url = os.environ.get("DATABASE_URL", "")
    try:
        env = local_env(database_url, os.environ.get("REDIS_URL") or LOCAL_REDIS)
    except ValueError as exc:
        print(f"error: {exc} (set DATABASE_URL=postgresql://...)", file=sys.stderr)
        return 2
    # An empty value is written "": honcho drops NAME= and Rasa refuses an unset one.
    empty = '""'
    print("\n".join(f"{name}={value or empty}" for name, value in env.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
