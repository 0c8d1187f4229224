"""The import graph: no cycle in backend/ or frontend/, and no two backend packages import each other.

Every import counts, including the ones inside functions: a lazy import is
still an edge, only one that fails later. ``from a import b`` is an edge to
the module ``a.b`` when there is one, else to ``a``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _modules(package: str) -> dict[str, Path]:
    found = {}
    for path in (ROOT / package).rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _nearest(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path, modules: dict[str, Path]) -> Iterator[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if target := _nearest(alias.name, modules):
                    yield target
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                if target := _nearest(f"{base}.{alias.name}", modules):
                    yield target


def import_graph(package: str) -> dict[str, set[str]]:
    modules = _modules(package)
    return {
        module: {t for t in _imports(module, path, modules) if t != module}
        for module, path in modules.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_checker_finds_a_cycle_and_a_lazy_import() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    lazy = import_graph("backend")["backend.domain.unit_of_work"]
    assert "backend.db" in lazy and "backend.events.bus" in lazy


@pytest.mark.parametrize("package", ["backend", "frontend"])
def test_no_import_cycle(package: str) -> None:
    assert cycles(import_graph(package)) == []


def test_no_two_backend_packages_import_each_other() -> None:
    def unit(module: str) -> str:
        return ".".join(module.split(".")[:2])  # backend.domain, backend.db, ...

    between: set[tuple[str, str]] = set()
    for module, targets in import_graph("backend").items():
        between |= {(unit(module), unit(t)) for t in targets if unit(module) != unit(t)}
    mutual = sorted((a, b) for a, b in between if (b, a) in between and a < b)
    assert mutual == []
