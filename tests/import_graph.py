"""The import graph of a package of this repository, and its cycles.

Every import statement counts, wherever it stands: inside a function, under
``if TYPE_CHECKING``. A lazy import is still a dependency, only one that
fails later.
"""

from __future__ import annotations

import ast
from pathlib import Path

Graph = dict[str, set[str]]


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(importer: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute name behind a relative ``from .x import y``."""
    if level == 0:
        return target or ""
    parts = importer.split(".")
    if not is_package:
        parts = parts[:-1]
    parts = parts[: len(parts) - (level - 1)]
    return ".".join([*parts, *([target] if target else [])])


def import_graph(root: Path, package: str) -> Graph:
    """Module -> the modules of ``package`` it imports.

    ``from a import b`` is an edge to ``a.b`` when that is a module, and to ``a``;
    importing ``a.b.c`` runs ``a`` and ``a.b`` first, so those are edges too.
    """
    modules = {_module_name(root, p): p for p in sorted((root / package).rglob("*.py"))}
    graph: Graph = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(name, is_package, node.level, node.module)
                targets = [source, *(f"{source}.{alias.name}" for alias in node.names)]
            else:
                continue
            for target in targets:
                parts = target.split(".")
                for depth in range(1, len(parts) + 1):
                    needed = ".".join(parts[:depth])
                    if needed in modules and needed != name:
                        graph[name].add(needed)
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The groups of modules that import one another, directly or not (Tarjan's SCCs)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in sorted(graph[module]):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = stack[stack.index(module) :]
            del stack[stack.index(module) :]
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def describe(graph: Graph, group: list[str]) -> str:
    return "; ".join(f"{m} -> {', '.join(sorted(graph[m] & set(group)))}" for m in group)
