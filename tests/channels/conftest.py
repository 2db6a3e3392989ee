"""Channel test fixtures: one SQLite directory with the real seed per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.db import get_engine
from tests.conftest import Templates, load_seed


@pytest.fixture(scope="module")
def seeded_sqlite(templates: Templates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A copy of the session's seeded template (the module's tests may write to it)."""
    url = templates.sqlite("seeded", load_seed, tmp_path_factory.mktemp("directory") / "d.db")
    yield url
    get_engine(url).dispose()
