"""No import cycles in ``bot/`` and ``actions/``, between modules or between packages.

A cycle works only while the imports happen to run in a lucky order, and it
hides which piece is the lower one. The graph is read from the source with
``ast``, so it also sees imports Python never runs at start-up: those inside
functions and under ``if TYPE_CHECKING:`` count too.

Two graphs are checked. Between modules: ``a`` imports ``b``. Between packages:
``bot.reo.glossary`` importing ``bot.directory.places`` makes ``bot.reo`` depend
on ``bot.directory``; a module directly in ``bot/`` (``bot.config``) is a node of
its own there, as is ``actions``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from bot.config import ROOT

PACKAGES = ("bot", "actions")


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Every module of our packages by dotted name (a package by its own name)."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> Iterator[str]:
    """The dotted names an import statement may load: modules, or names inside one."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:
        here = module.split(".") if is_package else module.split(".")[:-1]
        anchor = here[: len(here) - (node.level - 1)]
        base = ".".join([*anchor, *([base] if base else [])])
    yield base
    for alias in node.names:
        yield f"{base}.{alias.name}"


def imports_of(path: Path, module: str, known: Iterable[str]) -> set[str]:
    """The modules of ours that ``module`` imports anywhere in its source.

    ``import a.b.c`` and ``from a.b import c`` (``c`` a submodule) both import
    ``a.b.c``; ``from a.b import name`` imports ``a.b``.
    """
    known = set(known)
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        names = list(_imported(node, module, is_package))
        if isinstance(node, ast.ImportFrom):
            base, *members = names
            submodules = [m for m in members if m in known]
            found.update(submodules)
            if len(submodules) < len(members) and base in known:
                found.add(base)
        else:
            found.update(name for name in names if name in known)
    found.discard(module)
    return found


def module_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = module_files(root)
    return {name: imports_of(path, name, modules) for name, path in modules.items()}


def component(module: str) -> str:
    """The package a module belongs to for the package graph (``bot.reo.glossary``: ``bot.reo``)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "bot" else parts[0]


def package_graph(modules: Mapping[str, set[str]]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, imported in modules.items():
        edges = graph.setdefault(component(module), set())
        edges.update(component(m) for m in imported)
    for node, edges in graph.items():
        edges.discard(node)
    return graph


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[set[str]]:
    """The groups of nodes that reach each other (Kosaraju), each of more than one node."""
    order: list[str] = []
    seen: set[str] = set()
    for start in sorted(graph):
        if start in seen:
            continue
        seen.add(start)
        stack = [(start, iter(sorted(graph[start])))]
        while stack:
            node, edges = stack[-1]
            nxt = next((n for n in edges if n not in seen), None)
            if nxt is None:
                stack.pop()
                order.append(node)
            else:
                seen.add(nxt)
                stack.append((nxt, iter(sorted(graph.get(nxt, ())))))
    reverse: dict[str, set[str]] = {node: set() for node in graph}
    for node, edges in graph.items():
        for target in edges:
            reverse.setdefault(target, set()).add(node)
    groups, assigned = [], set()
    for start in reversed(order):
        if start in assigned:
            continue
        group, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node not in assigned:
                assigned.add(node)
                group.add(node)
                todo.extend(reverse[node] - assigned)
        if len(group) > 1:
            groups.append(group)
    return groups


def cycle_in(graph: Mapping[str, Iterable[str]], group: set[str]) -> list[str]:
    """One cycle through a strongly connected group, as a path back to its start."""
    start = min(group)
    came_from = {start: start}
    todo = [start]
    while todo:
        node = todo.pop(0)
        for target in sorted(set(graph[node]) & group):
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if target not in came_from:
                came_from[target] = node
                todo.append(target)
    raise AssertionError(f"{sorted(group)} is not strongly connected")


def cycles(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """One cycle, written ``a -> b -> a``, per group of modules that import each other
    (the group's other members after it)."""
    found = []
    for group in strongly_connected(graph):
        cycle = cycle_in(graph, group)
        others = sorted(group - set(cycle))
        found.append(" -> ".join(cycle) + (f" (with {', '.join(others)})" if others else ""))
    return found


def test_the_graph_sees_every_kind_of_import(tmp_path):
    """Module- and function-level, relative, TYPE_CHECKING and submodule imports all count."""
    package = tmp_path / "bot"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from bot.sub.low import name\n")
    (package / "sub" / "low.py").write_text("def f():\n    from .. import top\n")
    (package / "sub" / "mid.py").write_text("from . import low\nfrom .low import name\n")
    (package / "top.py").write_text(
        "from typing import TYPE_CHECKING\nimport os\n"
        "if TYPE_CHECKING:\n    import bot.sub.mid\nfrom bot import sub\n"
    )
    (tmp_path / "actions").mkdir()
    (tmp_path / "actions" / "__init__.py").write_text("")
    graph = module_graph(tmp_path)
    assert graph == {
        "bot": set(),
        "bot.sub": {"bot.sub.low"},
        "bot.sub.low": {"bot.top"},
        "bot.sub.mid": {"bot.sub.low"},
        "bot.top": {"bot.sub", "bot.sub.mid"},
        "actions": set(),
    }
    assert cycles(graph) == ["bot.sub -> bot.sub.low -> bot.top -> bot.sub (with bot.sub.mid)"]
    assert cycles(package_graph(graph)) == ["bot.sub -> bot.top -> bot.sub"]


def test_no_module_imports_itself_round_a_cycle():
    found = cycles(module_graph())
    assert not found, "import cycles between modules:\n" + "\n".join(found)


def test_no_package_imports_itself_round_a_cycle():
    found = cycles(package_graph(module_graph()))
    assert not found, "import cycles between packages:\n" + "\n".join(found)
