"""``python -m bot.rasa_cli`` is Rasa's own command line, with skops imported before any
of Rasa (and so before TensorFlow), which is what makes the server start sooner."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.config import ROOT


def _imported(stderr: str) -> list[str]:
    """Module names in the order ``-X importtime`` reports them finished."""
    return [
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    ]


@pytest.mark.processes
def test_it_is_rasas_command_with_skops_imported_first() -> None:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot.rasa_cli", "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Rasa Version      :         3.6.21" in out.stdout
    modules = _imported(out.stderr)
    assert modules.index("skops.io") < modules.index("rasa.__main__")
    assert not any(name.split(".")[0] == "rasa" for name in modules[: modules.index("skops.io")])


def test_procfiles_start_rasa_through_it() -> None:
    for procfile in (ROOT / "Procfile", ROOT / "deploy" / "Procfile.replicas"):
        rasa_lines = [line for line in procfile.read_text().splitlines() if " run --model" in line]
        assert rasa_lines and all(" -m bot.rasa_cli run " in line for line in rasa_lines)
