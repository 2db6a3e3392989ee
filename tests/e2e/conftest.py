"""Starts the real stack on loopback: action server, Rasa server (trained model), web app, inbox.

Each gets its own port and a fresh SQLite database seeded from the real directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from bench.procs import free_port
from bot.config import ROOT
from bot.db import session_scope
from bot.directory import seed
from bot.handoff import accounts
from bot.handoff.routing import TEAMS_FILE, load_teams
from bot.migrate import upgrade
from tests.e2e import fake_gateway

MODEL = ROOT / "models" / "current.tar.gz"
TOKEN = "e2e-test-token"
NAVIGATOR_EMAIL = "mere@grey.example.org"
NAVIGATOR_PASSWORD = "e2e navigator password"
# The URL the SMS gateway signs, as if Rasa sat behind a proxy (SMS_PUBLIC_URL).
SMS_PUBLIC_URL = "https://sms.awhina.test/webhooks/sms/webhook"


def wait_for(url: str, timeout: float, procs: list[subprocess.Popen], ok=lambda r: True) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args[:4]} exited with {proc.returncode}")
        try:
            response = requests.get(url, timeout=2)
            if response.ok and ok(response):
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not come up in {timeout}s")


@dataclass
class Stack:
    rasa_url: str
    web_url: str
    db_url: str
    actions_port: int
    env: dict[str, str]
    workdir: Path
    procs: list[subprocess.Popen]
    sms_url: str = ""  # where the SMS gateway posts webhooks (Rasa, loopback)
    sms_public_url: str = SMS_PUBLIC_URL  # the URL it signs
    gateway: fake_gateway.FakeGateway | None = None  # records outbound texts
    inbox_url: str = ""  # the navigators' inbox
    api_token: str = ""  # NAVIGATOR_EMAIL's API token
    widget_port: int = 0  # for the browser tests' web app, an allowed socket.io origin
    partner_port: int = 0  # for a partner site embedding the widget, allowed too

    def chat(self, sender: str, message: str) -> list[dict]:
        response = requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()

    def texts(self, sender: str, message: str) -> str:
        return "\n".join(r.get("text", "") for r in self.chat(sender, message))

    def say(self, sender: str, *messages: str) -> str:
        """Says ``messages`` one after another; the texts of the reply to the last."""
        return [self.texts(sender, message) for message in messages][-1]

    def execute(self, conversation_id: str, action: str) -> requests.Response:
        """Runs ``action`` in a conversation from outside (as the inbox does), its messages
        going to the conversation's latest channel."""
        return requests.post(
            f"{self.rasa_url}/conversations/{conversation_id}/execute",
            params={"output_channel": "latest", "token": TOKEN},
            json={"name": action},
            timeout=60,
        )


def start(args: list[str], stack_env: dict[str, str], log: Path) -> subprocess.Popen:
    """``python <args>`` in the repository, its output appended to the stack's log."""
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=stack_env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def start_bot(command: str, stack_env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    """One of our servers: ``python -m bot <command> --port <port>``."""
    return start(["-m", "bot", command, "--port", str(port)], stack_env, log)


def start_actions(stack_env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    return start_bot("actions", stack_env, port, log)


def start_rasa(
    stack_env: dict[str, str], port: int, endpoints: Path, log: Path
) -> subprocess.Popen:
    """Rasa's server with the trained model, as the Procfile starts it."""
    args = ["-m", "bot.rasa_cli", "run", "--model", str(MODEL), "--interface", "127.0.0.1"]
    args += ["--port", str(port), "--enable-api", "--auth-token", TOKEN]
    args += ["--endpoints", str(endpoints), "--credentials", str(ROOT / "credentials.yml")]
    return start(args, stack_env, log)


def prepare_database(db_url: str) -> str:
    """Migrates ``db_url`` and loads the real directory, the navigator teams and
    NAVIGATOR_EMAIL's account; returns that navigator's API token."""
    upgrade(db_url)
    with session_scope(db_url) as session:
        seed.load(session)
        load_teams(session, TEAMS_FILE)
        navigator = accounts.create_navigator(
            session, NAVIGATOR_EMAIL, "Mere", "grey-navigators", NAVIGATOR_PASSWORD
        )
        return accounts.issue_api_token(session, navigator)


def model_loaded(response: requests.Response) -> bool:
    """For :func:`wait_for` on Rasa's ``/status``, which answers before the model is loaded."""
    return bool(response.json().get("model_file"))


@contextmanager
def running_stack(workdir: Path) -> Iterator[Stack]:
    """The whole stack, once per test session (the ``stack`` fixture in tests/conftest.py).

    The e2e and the browser tests share it, so Rasa already allows the origins of
    the widget's web app and of a partner site, on ports reserved here.
    """
    if not MODEL.exists():
        pytest.fail("No trained model: run `make train` (make test does it first)")
    db_path = workdir / "e2e.db"
    db_url = f"sqlite:///{db_path}"
    api_token = prepare_database(db_url)
    rasa_port, actions_port, web_port = free_port(), free_port(), free_port()
    inbox_port, widget_port, partner_port = free_port(), free_port(), free_port()
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
        "tracker_store:\n  type: bot.privacy.ForgetfulSQLTrackerStore\n"
        f'  dialect: "sqlite"\n  db: "{db_path}"\n'
        "nlg:\n  type: bot.replies.ReplyGenerator\n"
    )
    gateway = fake_gateway.FakeGateway()
    gateway.start()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "RASA_TOKEN": TOKEN,
        "INBOX_POLL_SECONDS": "0.5",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RASA_TELEMETRY_ENABLED": "false",
        "TWILIO_AUTH_TOKEN": gateway.auth_token,
        "TWILIO_ACCOUNT_SID": gateway.account_sid,
        "SMS_FROM_NUMBER": fake_gateway.FROM_NUMBER,
        "SMS_PUBLIC_URL": SMS_PUBLIC_URL,
        "SMS_GATEWAY_URL": gateway.url,
        "SMS_MAX_CHARS": "1600",
        "SMS_SENDER_SECRET": "e2e-sms-sender-secret",
        "WIDGET_ALLOWED_ORIGINS": f"http://127.0.0.1:{widget_port},http://127.0.0.1:{partner_port}",
    }
    log = workdir / "stack.log"
    procs = [
        start_actions(env, actions_port, log),
        start_rasa(env, rasa_port, endpoints, log),
        start_bot("web", env, web_port, log),
        start_bot("inbox", env, inbox_port, log),
    ]
    stack = Stack(
        f"http://127.0.0.1:{rasa_port}",
        f"http://127.0.0.1:{web_port}",
        db_url,
        actions_port,
        env,
        workdir,
        procs,
        sms_url=f"http://127.0.0.1:{rasa_port}/webhooks/sms/webhook",
        gateway=gateway,
        inbox_url=f"http://127.0.0.1:{inbox_port}",
        api_token=api_token,
        widget_port=widget_port,
        partner_port=partner_port,
    )
    try:
        wait_for(f"http://127.0.0.1:{actions_port}/health", 90, procs)
        wait_for(
            f"{stack.rasa_url}/status?token={TOKEN}",
            240,
            procs,
            ok=model_loaded,
        )
        wait_for(f"{stack.web_url}/health", 30, procs)
        wait_for(f"{stack.inbox_url}/health", 30, procs)
        yield stack
    except Exception:
        print(log.read_text(errors="replace")[-5000:])
        raise
    finally:
        gateway.stop()
        for proc in stack.procs:
            proc.terminate()
        for proc in stack.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
