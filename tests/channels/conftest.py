"""Channel test fixtures: one SQLite directory with the real seed per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.db import get_engine, session_scope
from bot.directory import seed
from bot.migrate import upgrade


@pytest.fixture(scope="module")
def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('directory') / 'directory.db'}"
    upgrade(url)
    with session_scope(url) as session:
        seed.load(session)
    yield url
    get_engine(url).dispose()
