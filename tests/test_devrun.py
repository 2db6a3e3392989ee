"""make run's runner (bot/devrun.py), its warning filter (data/run/quiet.yml), the timed
test groups of make test (scripts/timed-groups) and make's list of targets.

The runner is exercised with a small fake Procfile (``python`` one-liners and a tiny health
server), never the real stack; the tests wait on events and pipes, never on a sleep.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bench.procs import free_port
from bot import devrun
from bot.config import ROOT
from bot.db import get_engine, session_scope
from bot.devrun import LineFilter, Process, QuietError, Runner, banner, expand, load_rules
from bot.handoff.routing import SAMPLE_ONLY, TEAMS_FILE, load_teams

PY = sys.executable
# Lines as the real stack and make print them (Rasa colours its warnings).
KNOWN_WARNINGS = [
    "WARNING: Location 'file:///opt/pypi-more/simple/pyyaml/' is ignored: "
    "it is neither a file nor a directory.",
    "  /tmp/pip-build-env-x/overlay/lib/python3.10/site-packages/setuptools/command/"
    "editable_wheel.py:354: BuildBackendWarning: Editable installation.",
    "  !!",
    "  ",
    "          Please be careful with folders in your working directory with the same",
    "    with strategy, WheelFile(wheel_path, 'w') as wheel_obj:",
    "/v/site-packages/rasa/core/tracker_store.py:1044: MovedIn20Warning: Deprecated API "
    "features detected! These feature(s) are not compatible with SQLAlchemy 2.0. To prevent …",
    "  Base: DeclarativeMeta = declarative_base()",
    "/v/site-packages/pkg_resources/__init__.py:3117: DeprecationWarning: Deprecated call to "
    "`pkg_resources.declare_namespace('ruamel')`.",
    "Implementing implicit namespace packages (as specified in PEP 420) is preferred to "
    "`pkg_resources.declare_namespace`. See https://setuptools.pypa.io/…",
    "  declare_namespace(pkg)",
    "\x1b[0m\x1b[93m/v/site-packages/rasa/shared/utils/io.py:100: UserWarning: The utterance "
    "'utter_greet' is not used in any story or rule.",
    "\x1b[93m/v/site-packages/rasa/shared/utils/io.py:100: UserWarning: Slot auto-fill has "
    "been removed in 3.0 and replaced with a new explicit mechanism to set slots.",
    "/v/site-packages/tensorflow/lite/python/util.py:52: DeprecationWarning: "
    "jax.xla_computation is deprecated. Please use the AOT APIs.",
    "  from jax import xla_computation as _xla_computation",
    "/v/site-packages/matplotlib/fontconfig_pattern.py:66: PyparsingDeprecationWarning: "
    "'setParseAction' deprecated - use 'set_parse_action'",
    "  ).setParseAction(self._family)",
]


def test_every_pattern_compiles_and_says_why():
    rules = load_rules()
    assert len(rules) >= 10
    for rule in rules:
        assert len(rule.reason.split()) >= 5, rule.pattern.pattern


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("- {pattern: 'x'}", "give exactly a pattern and a reason"),
        ("- {pattern: 'x', reason: ' '}", "the reason is empty"),
        ("- {pattern: '(', reason: why not}", "missing \\), unterminated subpattern"),
        ("- {pattern: 'x', reason: r, process: rasa}", "give exactly a pattern and a reason"),
    ],
)
def test_a_pattern_without_a_reason_is_refused(tmp_path, entry, message):
    path = tmp_path / "quiet.yml"
    path.write_text(f"quiet:\n  {entry}\n")
    with pytest.raises(QuietError, match=f"quiet.yml entry 1: {message}"):
        load_rules(path)


def test_the_known_warnings_go_with_their_source_lines():
    keep = LineFilter(load_rules()).keep
    assert [line for line in KNOWN_WARNINGS if keep(line)] == []


def test_errors_our_own_warnings_and_everything_else_stay():
    keep = LineFilter(load_rules()).keep
    lines = [
        KNOWN_WARNINGS[1],  # dropped, and
        "Traceback (most recent call last):",  # ends the warning: a traceback shows in full
        '  File "bot/web/app.py", line 3, in <module>',
        "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) no such table",
        "2026-11-28 11:22:44 WARNING  bot.channels.sms.channel  - sms channel: no auth token set",
        "/w/bot/directory/query.py:9: DeprecationWarning: our own deprecation shows",
        "  the source line under our own warning shows too",
        SAMPLE_ONLY,
        "  Sample team – Grey (not a real service)",
        "ERROR: pip's dependency resolver does not currently take into account all the packages",
        "\x1b[92mYour Rasa model is trained and saved at 'models/current.tar.gz'.\x1b[0m",
    ]
    assert [line for line in lines if keep(line)] == lines[1:]


@pytest.mark.processes
def test_python_m_bot_quiet_filters_a_pipe():
    text = "\n".join([*KNOWN_WARNINGS, "Loaded 33 services", "  indented, not after a warning"])
    result = subprocess.run(
        [PY, "-m", "bot", "quiet"], input=text + "\n", capture_output=True, text=True, cwd=ROOT
    )
    assert (result.returncode, result.stdout) == (
        0,
        "Loaded 33 services\n  indented, not after a warning\n",
    )


def test_the_procfile_is_read_as_honcho_reads_it():
    env = {"RASA_TOKEN": "a b/c", "WEB_PORT": "8100", "INBOX_PORT": ""}
    processes = devrun.read_procfile(ROOT / "Procfile", env)
    assert [(p.name, p.url, p.health) for p in processes] == [
        ("rasa", "http://127.0.0.1:5005", "http://127.0.0.1:5005/status?token=a%20b%2Fc"),
        ("actions", "http://127.0.0.1:5055", "http://127.0.0.1:5055/health"),
        ("web", "http://127.0.0.1:8100", "http://127.0.0.1:8100/health"),
        ("inbox", "http://127.0.0.1:8001", "http://127.0.0.1:8001/health"),
        ("escalator", None, None),  # a worker: no port, no health check
    ]
    assert processes[0].command.startswith(".venv/bin/python -m bot.rasa_cli run --model")


def test_comments_and_a_process_without_a_port(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        "# a comment: not a process\nworker: python -m worker\nweb: serve --port=9\n"
    )
    assert devrun.read_procfile(procfile, {}) == [
        Process("worker", "python -m worker"),
        Process("web", "serve --port=9", "http://127.0.0.1:9", "http://127.0.0.1:9/health"),
    ]


@pytest.mark.parametrize(
    ("command", "expanded"),
    [
        ("--port ${WEB_PORT:-8000}", "--port 8100"),
        ("--port ${NOPE:-8000}", "--port 8000"),
        ("--port ${EMPTY:-8000}", "--port 8000"),
        ('--auth-token "$RASA_TOKEN" ${RASA_TOKEN}', '--auth-token "t" t'),
        ("$NOPE${EMPTY}", ""),
    ],
)
def test_variables_expand_as_the_shell_does(command, expanded):
    assert expand(command, {"WEB_PORT": "8100", "EMPTY": "", "RASA_TOKEN": "t"}) == expanded


def test_env_file_as_honcho_reads_it(tmp_path):
    path = tmp_path / ".env"
    path.write_text("# comment\nRASA_TOKEN=abc\nWEB_PORT=8100  # the web app\nQUOTED='a b'\n")
    assert devrun.read_env(path) == {"RASA_TOKEN": "abc", "WEB_PORT": "8100", "QUOTED": "a b"}
    assert devrun.read_env(tmp_path / "missing") == {}


LOGINS = (
    f"{SAMPLE_ONLY}\n\n"
    "Sample navigator logins (sample data; new passwords on every run):\n"
    "  Sample team – Grey (not a real service)\n"
    "    email: sample-grey-navigators@example.org   password: pw-1\n"
)


def test_the_banner_gives_the_logins_then_where_to_chat():
    processes = devrun.read_procfile(ROOT / "Procfile", {"WEB_PORT": "8100", "RASA_TOKEN": "t"})
    text = banner(processes, LOGINS, devrun.RUNNING)
    assert LOGINS.rstrip() in text
    chat = "Chat with Āwhina:   http://127.0.0.1:8100/"
    inbox = "Navigators' inbox:  http://127.0.0.1:8001/"
    rasa = "Rasa HTTP API:      http://127.0.0.1:5005/ (token in .env)"
    positions = [text.index(part) for part in ("password: pw-1", chat, inbox, rasa, "Ctrl-C")]
    assert positions == sorted(positions)
    assert "5055" not in text  # nobody opens the action server in a browser
    assert "token=" not in text  # the token stays in .env
    # navigator demo already says the data are samples; the banner does not say it again
    assert text.lower().count("sample") == LOGINS.lower().count("sample")


@pytest.fixture
def teams_url(migrated_sqlite_file: Path, tmp_path: Path) -> str:
    """A database with the sample navigator teams, for the real navigator demo."""
    db = tmp_path / "demo.db"
    db.write_bytes(migrated_sqlite_file.read_bytes())
    url = f"sqlite:///{db}"
    with session_scope(url) as session:
        load_teams(session, TEAMS_FILE)
    get_engine(url).dispose()
    return url


# A health server for the fake Procfile: prints a known warning with its source line, then
# answers GET /health on the port it is given.
HEALTH_SERVER = """\
import http.server, sys
port = int(sys.argv[sys.argv.index("--port") + 1])
print("/v/site-packages/pkg_resources/__init__.py:1: DeprecationWarning: "
      "pkg_resources is deprecated as an API")
print("  import pkg_resources")
print("serving")
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Health).serve_forever()
"""
WAIT_FOR_SIGNAL = "import signal; print('up', flush=True); signal.pause()"
IGNORE_SIGTERM = (
    "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('up', flush=True); signal.pause()"
)
FAKE_LOGINS = [PY, "-c", "print('Sample navigator logins (sample data):')"]


def fake_procfile(tmp_path: Path, **processes: str) -> Path:
    (tmp_path / "health_server.py").write_text(HEALTH_SERVER)
    procfile = tmp_path / "Procfile"
    procfile.write_text("".join(f"{name}: {command}\n" for name, command in processes.items()))
    return procfile


class Screen(io.StringIO):
    """The runner's output; sets ``stopping`` (as Ctrl-C does) once ``trigger`` shows."""

    def __init__(self, stopping: threading.Event, trigger: str) -> None:
        super().__init__()
        self.stopping, self.trigger = stopping, trigger

    def write(self, text: str) -> int:
        written = super().write(text)
        if self.trigger in self.getvalue():
            self.stopping.set()
        return written


def run_fake(procfile: Path, trigger: str) -> tuple[int, str, Runner]:
    stopping = threading.Event()
    screen = Screen(stopping, trigger)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    runner = Runner(
        devrun.read_procfile(procfile, env),
        env,
        load_rules(),
        out=screen,
        cwd=procfile.parent,
        logins_command=FAKE_LOGINS,
    )
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(runner.run(stopping)), daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert result, "the runner did not return:\n" + screen.getvalue()
    return result[0], screen.getvalue(), runner


def group_gone(pgid: int) -> bool:
    """No process of the group runs (a killed one may stay a zombie until init reaps it)."""
    ps = subprocess.run(["ps", "-eo", "pgid=,stat="], capture_output=True, text=True).stdout
    return not any(
        int(group) == pgid and not stat.startswith("Z")
        for group, stat in (line.split() for line in ps.splitlines())
    )


@pytest.mark.processes
def test_ctrl_c_repeats_the_banner_and_stops_every_process(tmp_path):
    port = free_port()
    procfile = fake_procfile(
        tmp_path,
        web=f"{PY} health_server.py --port {port}",
        worker=f'{PY} -c "{WAIT_FOR_SIGNAL}"',
    )
    status, out, runner = run_fake(procfile, "Ctrl-C stops everything.")
    assert status == 0, out
    lines = out.splitlines()
    assert lines[:2] == [
        "==> Resetting the sample navigators' logins",
        "==> Starting web, worker (Procfile); Rasa needs a minute or so to load its model",
    ]
    assert "web    | serving" in lines
    assert "pkg_resources" not in out  # the known warning and its source line
    answered_at = next(i for i, line in enumerate(lines) if line.startswith("==> All answer ("))
    assert answered_at < lines.index("Sample navigator logins (sample data):")
    assert f"  Chat with Āwhina:   http://127.0.0.1:{port}/" in lines
    # the banner again on Ctrl-C, then everything stops
    assert out.count(f"http://127.0.0.1:{port}/") == 2
    assert lines[-4:] == [
        f"  {devrun.STOPPING}",
        devrun.RULE,
        "==> Stopping web, worker",
        "==> Stopped",
    ]
    for child in runner.children.values():
        assert child.returncode is not None and group_gone(child.pid)


@pytest.mark.processes
def test_a_process_that_ignores_sigterm_is_killed(tmp_path, monkeypatch):
    monkeypatch.setattr(devrun, "STOP_TIMEOUT", 0.5)
    procfile = fake_procfile(tmp_path, stubborn=f'{PY} -c "{IGNORE_SIGTERM}"')
    status, out, runner = run_fake(procfile, "stubborn | up")
    assert status == 0, out
    child = runner.children["stubborn"]
    assert child.returncode is not None and group_gone(child.pid)


@pytest.mark.processes
def test_a_process_that_exits_stops_the_others_and_fails(tmp_path):
    procfile = fake_procfile(
        tmp_path,
        worker=f'{PY} -c "{WAIT_FOR_SIGNAL}"',
        crash=f"{PY} -c \"import sys; print('boom'); sys.exit(3)\"",
    )
    status, out, runner = run_fake(procfile, "never printed")
    assert status == 1
    assert "crash  | boom" in out and "error: crash exited with 3" in out
    assert group_gone(runner.children["worker"].pid)


@pytest.mark.processes
def test_python_m_bot_run_stops_everything_on_sigint(tmp_path, teams_url):
    """The real command line and signal handling, with the fake Procfile and .env."""
    port = free_port()
    procfile = fake_procfile(tmp_path, web=f"{PY} health_server.py --port ${{FAKE_PORT}}")
    (tmp_path / ".env").write_text(f"FAKE_PORT={port}\nDATABASE_URL={teams_url}\n")
    runner = subprocess.Popen(
        [PY, "-m", "bot", "run", "--procfile", str(procfile)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    watchdog = threading.Timer(90, runner.kill)
    watchdog.start()
    try:
        lines = []
        for line in runner.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("  Ctrl-C stops everything."):
                runner.send_signal(signal.SIGINT)
        assert runner.wait() == 0, "\n".join(lines)
    finally:
        watchdog.cancel()
    assert lines.count(f"  Chat with Āwhina:   http://127.0.0.1:{port}/") == 2
    # the logins come from navigator demo, which says plainly that the data are samples
    assert lines.count(SAMPLE_ONLY) == 2
    assert "Sample navigator logins (sample data; new passwords on every run):" in lines
    assert re.search(r"email: sample-[\w-]+@example\.org +password: \S+", "\n".join(lines))
    assert lines[-1] == "==> Stopped"
    server = re.compile(rf"health_server\.py --port {port}\b")
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert not server.search(ps)


TIMED_GROUPS = str(ROOT / "scripts" / "timed-groups")


def test_timed_groups_run_all_and_fail_if_one_failed():
    result = subprocess.run(
        [TIMED_GROUPS, "one", "echo '5 passed in 0.1s'", "two", "exit 3", "three", "exit 5"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    out = result.stdout
    assert "5 passed in 0.1s" in out  # pytest's closing line stays for CI
    for name in ("one", "two", "three"):
        assert re.search(rf"^== {name}: \d+s$", out, re.M), out
    summary = out[out.index("== Summary") :]
    assert re.search(r"one +\d+s  passed", summary)
    assert re.search(r"two +\d+s  FAILED \(exit 3\)", summary)
    assert re.search(r"three +\d+s  no tests selected", summary)  # pytest's 5: not a failure
    assert re.search(r"total +\d+s", summary)


def test_timed_groups_pass_when_every_group_does():
    result = subprocess.run([TIMED_GROUPS, "only", "exit 5"], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "== only\n== only: 0s\n")


def test_make_alone_lists_every_target_in_one_line():
    result = subprocess.run(
        ["make", "--no-print-directory"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    targets = {line.split()[0]: line for line in lines[1:]}
    for target in ("run", "test", "test-fast", "test-clocks", "train", "db", "lint"):
        assert re.fullmatch(rf"  {target} +\S.*", targets[target]), lines
    makefile = (ROOT / "Makefile").read_text()
    assert len(targets) == len(re.findall(r"^[a-z-]+:.*## ", makefile, re.M))
