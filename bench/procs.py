"""Child processes and what they cost: loopback ports, wall and CPU time, peak memory.

Peak memory is the kernel's high-water mark of resident memory (``VmHWM`` for a
running server, ``ru_maxrss`` for a finished training run), so a short spike
counts even when no sample happened to catch it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# The ports free_port has handed out in this process.
_handed_out: set[int] = set()


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (nothing here listens on another interface), never
    one this process was given before: once the probing socket is closed the kernel may
    give the same port to the next probe, and two servers told the same port (a stack's
    web app and inbox, say) fail to start."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


@dataclass(frozen=True)
class Finished:
    """A process that ran to the end: how long, how much CPU, how much memory at most."""

    returncode: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float


def run_measured(
    args: list[str], cwd: Path, env: dict[str, str], log: Path, timeout_s: float
) -> Finished:
    """Runs ``args`` to completion (killed after ``timeout_s``), measured with ``wait4``.

    ``wait4`` reports the CPU time and peak memory of this one child (and of the
    children it waited for), unlike ``RUSAGE_CHILDREN``, which mixes in every
    other process this benchmark has reaped.
    """
    started = time.perf_counter()
    with log.open("ab") as out:
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    timer = threading.Timer(timeout_s, proc.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: Popen must not wait
    return Finished(
        returncode=proc.returncode,
        wall_s=time.perf_counter() - started,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,  # kilobytes on Linux
    )


class Server:
    """A long-running child process (a Rasa server, the action server) and its log."""

    def __init__(self, name: str, args: list[str], cwd: Path, env: dict[str, str], log: Path):
        self.name = name
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{tail}")

    def _status(self) -> dict[str, str]:
        text = Path(f"/proc/{self.proc.pid}/status").read_text()
        return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)

    def peak_rss_mb(self) -> float:
        """The most resident memory the process has had so far."""
        return int(self._status()["VmHWM"].split()[0]) / 1024

    def cpu_s(self) -> float:
        """User and system CPU seconds used so far (its threads included)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)
