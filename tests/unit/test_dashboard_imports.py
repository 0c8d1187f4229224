"""No import cycle among the dashboard's modules (``frontend/``).

Every import statement counts, wherever it stands: inside a function, under
``if TYPE_CHECKING``. A lazy import is still a dependency, and a cycle is what
this dashboard had before its page states registered their live handlers
(``frontend/state/live_events.py``) instead of being imported by ``LiveState``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.servers import ROOT

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


def test_the_dashboard_has_no_import_cycle() -> None:
    graph = import_graph(ROOT, "frontend")
    assert "frontend.state.live" in graph  # the walk found the modules
    found = cycles(graph)
    assert found == [], "\n".join(describe(graph, group) for group in found)


def test_the_live_state_imports_neither_page_states_nor_the_app() -> None:
    imported = import_graph(ROOT, "frontend")["frontend.state.live"]
    forbidden = {
        "frontend.frontend",
        "frontend.state.billing",
        "frontend.state.channels",
        "frontend.state.invoices",
        "frontend.state.wallets",
    }
    assert imported & forbidden == set()


def test_a_cycle_through_an_import_inside_a_function_is_found(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "app.py").write_text("from pkg.sub import page\n")
    (package / "sub" / "page.py").write_text("from .base import Base\n")
    (package / "sub" / "base.py").write_text(
        "class Base:\n    def later(self):\n        from pkg import app\n        return app\n"
    )
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.app"] == {"pkg", "pkg.sub", "pkg.sub.page"}
    assert cycles(graph) == [["pkg.app", "pkg.sub.base", "pkg.sub.page"]]
