"""Imports in the sandbox run one way: no cycle, and the core knows no resource family.

Every ``import`` statement of every module of ``xero_sandbox`` counts, wherever it is (inside a
function, under ``if TYPE_CHECKING``): ``import a.b`` and ``from a.b import c`` make an edge to the
module they name (``a.b.c`` when ``c`` is a module). The package a module sits in is not an edge
of its own: Python initialises it first, whatever the module imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import xero_sandbox

ROOT = Path(xero_sandbox.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _edges(name: str, path: Path) -> set[str]:
    """The sandbox modules ``name`` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in MODULES else base)
    return {target for target in targets if target in MODULES and target != name}


GRAPH = {name: _edges(name, path) for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules (Tarjan), as a readable path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_the_graph_sees_every_module_and_the_known_edges():
    assert {"xero_sandbox.core.app", "xero_sandbox.resources.invoices", "xero_sandbox.store"} <= set(GRAPH)
    assert "xero_sandbox.core.control" in GRAPH["xero_sandbox.core.app"]
    # A deferred import (inside a function) is an edge too.
    assert "xero_sandbox.core.webhooks" in GRAPH["xero_sandbox.core.control"]


def test_no_module_of_the_sandbox_imports_itself_back():
    assert _cycles(GRAPH) == []


def test_the_core_imports_no_resource_family_nor_a_top_module():
    outside = {name: sorted(t for t in targets if not t.startswith("xero_sandbox.core"))
               for name, targets in GRAPH.items() if name.startswith("xero_sandbox.core")}
    assert {name: targets for name, targets in outside.items() if targets} == {}


def test_resource_families_import_only_the_core_and_each_other():
    above = {name: sorted(t for t in targets if not t.startswith(("xero_sandbox.core", "xero_sandbox.resources")))
             for name, targets in GRAPH.items() if name.startswith("xero_sandbox.resources")}
    assert {name: targets for name, targets in above.items() if targets} == {}
