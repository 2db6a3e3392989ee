"""The action server reads its data files before it serves (bot/action_server.py)."""

from __future__ import annotations

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
