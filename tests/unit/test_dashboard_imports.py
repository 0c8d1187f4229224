"""The dashboard's live state stays at the bottom of the import graph.

Page states register their live handlers (``frontend/state/live_events.py``)
instead of being imported by ``LiveState``; that is what keeps ``frontend/``
free of cycles (``tests/unit/test_import_graph.py``).
"""

from __future__ import annotations

from pathlib import Path

from tests.import_graph import cycles, import_graph
from tests.servers import ROOT


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
