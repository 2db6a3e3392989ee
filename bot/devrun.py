"""The runner behind ``make run`` (``python -m bot run``) and the make targets' warning filter.

honcho starts the Procfile's processes too (``honcho start`` still works), but a first run
then scrolls past dozens of lines of other projects' deprecation warnings, and the place to
chat is printed before anything can answer there. This runner starts the same processes from
the same Procfile with the same ``.env`` (read with honcho's own parsers), prefixes each line
with the process name, drops the known third-party warnings listed with their reasons in
``data/run/quiet.yml``, and prints where to chat and the sample logins only once every service
answers its health check, and again on Ctrl-C before it stops them all.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TextIO
from urllib.parse import quote

import yaml
from honcho.environ import parse as parse_env
from honcho.environ import parse_procfile

from bot.config import DATA_DIR, ROOT

QUIET_FILE = DATA_DIR / "run" / "quiet.yml"
PROCFILE = ROOT / "Procfile"
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # Rasa colours its warnings
# The health check of each Procfile process, on the port its command is given. Rasa's
# ``/status`` answers only once the model is loaded.
HEALTH_PATHS = {"rasa": "/status?token={token}"}
DEFAULT_HEALTH_PATH = "/health"
# What the banner calls the processes people open in a browser, in the banner's order.
LINKS = {
    "web": "Chat with Āwhina:  ",
    "inbox": "Navigators' inbox: ",
    "rasa": "Rasa HTTP API:     ",
}
LINK_NOTES = {"rasa": " (token in .env)"}
HEALTH_TIMEOUT = 600.0  # seconds; loading the model on a busy 2-core machine takes minutes
REMIND_EVERY = 60.0  # seconds between "still waiting" lines
STOP_TIMEOUT = 10.0  # seconds between SIGTERM and SIGKILL
RULE = "─" * 72
# The banner's last line when everything answers, and when it is repeated on Ctrl-C.
RUNNING = "Ctrl-C stops everything."
STOPPING = "Stopping everything (the logins and addresses again, for your notes)."
# Resets the sample navigators' passwords and prints them, saying they are samples.
DEMO_LOGINS = (sys.executable, "-m", "bot", "navigator", "demo")


class QuietError(ValueError):
    """data/run/quiet.yml is malformed."""


@dataclass(frozen=True)
class QuietRule:
    pattern: re.Pattern[str]
    reason: str


def load_rules(path: Path = QUIET_FILE) -> list[QuietRule]:
    """The warnings to drop; every pattern must compile and say why dropping it is safe."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))["quiet"]
    rules = []
    for number, entry in enumerate(entries, 1):
        if set(entry) != {"pattern", "reason"}:
            raise QuietError(f"{path.name} entry {number}: give exactly a pattern and a reason")
        if not str(entry["reason"]).strip():
            raise QuietError(f"{path.name} entry {number}: the reason is empty")
        try:
            pattern = re.compile(entry["pattern"])
        except re.error as exc:
            raise QuietError(f"{path.name} entry {number}: {exc}") from exc
        rules.append(QuietRule(pattern, entry["reason"]))
    return rules


class LineFilter:
    """Drops lines a rule matches, with the indented lines that follow one.

    Python prints the offending source line, indented, under each warning; it goes with
    its warning. A line that is not indented (a traceback, a log line) ends that, so real
    errors right after a dropped warning still show. One filter per output stream.
    """

    def __init__(self, rules: list[QuietRule]) -> None:
        self._rules = rules
        self._dropping = False

    def keep(self, line: str) -> bool:
        text = ANSI.sub("", line)
        if self._dropping and text.startswith((" ", "\t")):
            return False
        self._dropping = any(rule.pattern.search(text) for rule in self._rules)
        return not self._dropping


def quiet(lines: Iterable[str], out: TextIO, rules: list[QuietRule]) -> None:
    """Copies lines to ``out`` without the known warnings (``python -m bot quiet``)."""
    keep = LineFilter(rules).keep
    for line in lines:
        if keep(line):
            out.write(line)
            out.flush()


_VARIABLE = re.compile(r"\$(?:\{(\w+)(?::-([^}]*))?\}|(\w+))")


def expand(command: str, env: dict[str, str]) -> str:
    """``$NAME``, ``${NAME}`` and ``${NAME:-default}`` as the shell expands them."""

    def value(match: re.Match[str]) -> str:
        braced, default, bare = match.groups()
        found = env.get(braced or bare, "")
        return found if found or default is None else default

    return _VARIABLE.sub(value, command)


@dataclass
class Process:
    """A Procfile line; ``url`` is where it listens, when its command gives ``--port``."""

    name: str
    command: str
    url: str | None = None
    health: str | None = None

    @classmethod
    def from_procfile(cls, name: str, command: str, env: dict[str, str]) -> Process:
        port = re.search(r"--port[ =](\d+)", expand(command, env))
        if port is None:
            return cls(name, command)
        url = f"http://127.0.0.1:{port.group(1)}"
        path = HEALTH_PATHS.get(name, DEFAULT_HEALTH_PATH)
        token = quote(env.get("RASA_TOKEN", ""), safe="")
        return cls(name, command, url, url + path.format(token=token))


def read_env(path: Path) -> dict[str, str]:
    """The .env file as honcho reads it (missing: nothing)."""
    return parse_env(path.read_text(encoding="utf-8")) if path.exists() else {}


def read_procfile(path: Path, env: dict[str, str]) -> list[Process]:
    """The Procfile's processes in order, parsed by honcho (the one list of what runs)."""
    processes = parse_procfile(path.read_text(encoding="utf-8")).processes
    return [Process.from_procfile(name, command, env) for name, command in processes.items()]


def banner(processes: list[Process], logins: str, footer: str) -> str:
    """The sample logins, then where to chat and work as a navigator."""
    urls = {p.name: p.url for p in processes if p.url}
    lines = [RULE, logins.rstrip(), ""]
    lines += [
        f"  {label} {urls[name]}/{LINK_NOTES.get(name, '')}"
        for name, label in LINKS.items()
        if name in urls
    ]
    lines += [f"  {footer}", RULE]
    return "\n".join(lines)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


def _lines(stream: IO[bytes]) -> Iterator[str]:
    for raw in iter(stream.readline, b""):
        yield raw.decode("utf-8", errors="replace").rstrip("\r\n")


@dataclass
class Runner:
    """Starts the processes, shows their output, waits for their health checks, stops them."""

    processes: list[Process]
    env: dict[str, str]
    rules: list[QuietRule]
    out: TextIO = sys.stdout
    cwd: Path = ROOT
    logins_command: list[str] = field(default_factory=lambda: list(DEMO_LOGINS))
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _pumps: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def say(self, text: str) -> None:
        with self._lock:
            self.out.write(text + "\n")
            self.out.flush()

    def capture(self, argv: list[str]) -> tuple[int, str]:
        """Runs a command to completion; its output without the known warnings."""
        result = subprocess.run(
            argv, cwd=self.cwd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        keep = LineFilter(self.rules).keep
        text = result.stdout.decode("utf-8", errors="replace").splitlines()
        return result.returncode, "\n".join(line for line in text if keep(line))

    def start(self) -> None:
        """Each process in its own session, as honcho does: the terminal's Ctrl-C reaches
        only this runner, which stops them in order and repeats the banner first."""
        width = max(len(p.name) for p in self.processes)
        for process in self.processes:
            child = subprocess.Popen(
                process.command,
                shell=True,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.children[process.name] = child
            pump = threading.Thread(
                target=self._pump, args=(f"{process.name:<{width}} | ", child.stdout), daemon=True
            )
            pump.start()
            self._pumps.append(pump)

    def _pump(self, prefix: str, stream: IO[bytes]) -> None:
        keep = LineFilter(self.rules).keep
        for line in _lines(stream):
            if keep(line):
                self.say(prefix + line)

    def exited(self) -> str | None:
        """The name of a process that has stopped, if any."""
        return next((name for name, c in self.children.items() if c.poll() is not None), None)

    def wait_healthy(self, stopping: threading.Event, timeout: float = HEALTH_TIMEOUT) -> bool:
        """True once every process with a port answers; False if one exits, on stop or timeout."""
        waiting = [p for p in self.processes if p.health]
        started = time.monotonic()
        reminded = started
        while waiting:
            if stopping.is_set():
                return False
            name = self.exited()
            if name:
                self.say(f"error: {name} exited with {self.children[name].returncode}")
                return False
            waiting = [p for p in waiting if not answers(p.health)]
            now = time.monotonic()
            if waiting and now - started > timeout:
                names = ", ".join(p.name for p in waiting)
                self.say(f"error: {names} did not answer in {timeout:.0f} s")
                return False
            if waiting and now - reminded >= REMIND_EVERY:
                reminded = now
                names = ", ".join(p.name for p in waiting)
                self.say(f"==> Still waiting for {names} ({now - started:.0f} s)")
            stopping.wait(0.5)
        return True

    def wait(self, stopping: threading.Event) -> str | None:
        """Until a stop is asked for (None) or a process exits (its name)."""
        while not stopping.wait(0.2):
            name = self.exited()
            if name:
                self.say(f"error: {name} exited with {self.children[name].returncode}")
                return name
        return None

    def stop(self) -> None:
        """SIGTERM to each process group, SIGKILL to what is left of it after STOP_TIMEOUT.

        The group, not only the child: the child is the shell running the Procfile line,
        and what it started may outlive it (or ignore SIGTERM).
        """
        for child in self.children.values():
            _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in self.children.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(max(0.0, deadline - time.monotonic()))
            while _group_alive(child) and time.monotonic() < deadline:
                time.sleep(0.1)
            _signal_group(child, signal.SIGKILL)
            child.wait()
        for pump in self._pumps:
            pump.join(timeout=2)  # the rest of the output; a stray holder of the pipe won't block

    def run(self, stopping: threading.Event) -> int:
        """Logins, start, health checks, banner; on stop the banner again, then all stop.

        0 when stopped on request; 1 when a process exits by itself or never answers (the
        others are stopped too, as honcho does).
        """
        names = ", ".join(p.name for p in self.processes)
        self.say("==> Resetting the sample navigators' logins")
        status, logins = self.capture(self.logins_command)
        if stopping.is_set():  # Ctrl-C reached the command too
            return 0
        if status != 0:
            self.say(logins)
            return 1
        self.say(f"==> Starting {names} (Procfile); Rasa needs a minute or so to load its model")
        self.start()
        started = time.monotonic()
        try:
            if not self.wait_healthy(stopping):
                return 0 if stopping.is_set() else 1
            self.say(f"==> All answer ({time.monotonic() - started:.0f} s)")
            self.say(banner(self.processes, logins, RUNNING))
            if self.wait(stopping) is not None:
                return 1
            self.say(banner(self.processes, logins, STOPPING))
            return 0
        finally:
            self.say(f"==> Stopping {names}")
            self.stop()
            self.say("==> Stopped")


def _signal_group(child: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signum)


def _group_alive(child: subprocess.Popen[bytes]) -> bool:
    try:
        os.killpg(child.pid, 0)
    except ProcessLookupError:
        return False
    return True


def main(procfile: Path | None = None, env_file: Path | None = None) -> int:
    """``python -m bot run``: Ctrl-C, SIGTERM or SIGHUP stop everything."""
    procfile = procfile or PROCFILE
    env_file = env_file or procfile.parent / ".env"
    env = {**os.environ, **read_env(env_file), "PYTHONUNBUFFERED": "1"}
    runner = Runner(read_procfile(procfile, env), env, load_rules(), cwd=procfile.parent)
    stopping = threading.Event()

    def request_stop(*_: object) -> None:
        # From another thread: the handler may interrupt this one inside stopping.wait(),
        # holding the lock that set() takes.
        threading.Thread(target=stopping.set).start()

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, request_stop)
    return runner.run(stopping)
