"""bench/procs.py's free_port, which the benchmarks and the test stacks take their ports from."""

from __future__ import annotations

import pytest

from bench import procs


class _Probe:
    """A socket bound to the next port of a fixed sequence, as the kernel might give them."""

    ports: list[int] = []

    def __enter__(self) -> _Probe:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def bind(self, address: tuple[str, int]) -> None:
        assert address == ("127.0.0.1", 0)
        self.port = self.ports.pop(0)

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)


def test_a_port_handed_out_is_never_handed_out_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel gives the same free port to two probes in a row (it did in CI: a stack's
    web app and inbox were both told 46829): the second caller gets the next one."""
    monkeypatch.setattr(procs, "_handed_out", set())
    monkeypatch.setattr(procs.socket, "socket", _Probe)
    monkeypatch.setattr(_Probe, "ports", [46829, 46829, 46829, 51000])
    assert [procs.free_port(), procs.free_port()] == [46829, 51000]


def test_free_ports_are_distinct_and_bindable() -> None:
    import socket

    ports = [procs.free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    with socket.socket() as s:
        s.bind(("127.0.0.1", ports[-1]))
