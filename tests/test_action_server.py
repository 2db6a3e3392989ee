"""The action server reads its data files before it serves (bot/action_server.py)."""

from __future__ import annotations

import pytest

from bot.action_server import read_data_files
from bot.directory.places import gazetteer
from bot.directory.taxonomy import taxonomies
from bot.insights.demand import area_rules
from bot.reo.glossary import default_glossary

CACHED = (gazetteer, taxonomies, default_glossary, area_rules)


def test_the_data_files_are_read_before_the_first_search():
    for read in CACHED:
        read.cache_clear()
    read_data_files()
    assert [read.cache_info().currsize for read in CACHED] == [1, 1, 1, 1]
    assert [read.cache_info().misses for read in CACHED] == [1, 1, 1, 1]


@pytest.mark.processes
def test_the_action_server_never_loads_rasa_itself(tmp_path):
    """The action server stays small (issue 11: at most 200 MB): with every action
    registered, neither Rasa's own package nor TensorFlow is loaded."""
    import os
    import subprocess
    import sys

    from bot.config import ROOT

    code = (
        "import sys, rasa_sdk.endpoint\n"
        "from rasa_sdk.executor import ActionExecutor\n"
        "from bot.handoff import forgetting, outbox\n"
        "outbox.keep_retrying = forgetting.keep_retrying = lambda stop: None\n"
        "rasa_sdk.endpoint.run = lambda *a, **k: ActionExecutor().register_package('actions')\n"
        "from bot import action_server\n"
        "action_server.main(port=0)\n"
        "loaded = {name.split('.')[0] for name in sys.modules}\n"
        "print('actions.search' in sys.modules, sorted(loaded & {'rasa', 'tensorflow'}))\n"
    )
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split("\n")[-2] == "True []"


def test_the_search_statements_are_built_before_it_serves(seeded_url, monkeypatch):
    """On a seeded directory, every kind of search runs once at start (bot.directory.query's
    warm_up, whose own test shows a conversation then builds no statement)."""
    from bot import action_server
    from bot.directory import query

    searched = []
    real_search = query.search
    monkeypatch.setattr(query, "search", lambda *a, **k: searched.append(1) or real_search(*a, **k))
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    action_server.warm_up_searches()
    assert len(searched) >= 12


def test_a_database_not_ready_is_logged_and_the_server_starts(tmp_path, monkeypatch, caplog):
    """An empty database file (not migrated): a warning without the statement, no error."""
    from bot import action_server

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    with caplog.at_level("WARNING", logger="bot.action_server"):
        action_server.warm_up_searches()
    assert caplog.messages == ["search statements not built ahead (OperationalError)"]
