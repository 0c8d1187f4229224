"""No import cycle in backend/ or frontend/, and no two backend packages import each other.

Counted by ``tests/import_graph.py``: every import, including those inside
functions; importing ``a.b.c`` depends on ``a`` and ``a.b`` as well, so a
package whose ``__init__`` imports its own modules back is a cycle too.
"""

from __future__ import annotations

import pytest

from tests.import_graph import cycles, describe, import_graph
from tests.servers import ROOT


@pytest.mark.parametrize("package", ["backend", "frontend"])
def test_no_import_cycle(package: str) -> None:
    graph = import_graph(ROOT, package)
    assert f"{package}.app" in graph or f"{package}.frontend" in graph  # the walk found it
    found = cycles(graph)
    assert found == [], "\n".join(describe(graph, group) for group in found)


def test_no_two_backend_packages_import_each_other() -> None:
    def unit(module: str) -> str:
        return ".".join(module.split(".")[:2])  # backend.domain, backend.db, ...

    between: set[tuple[str, str]] = set()
    for module, targets in import_graph(ROOT, "backend").items():
        between |= {(unit(module), unit(t)) for t in targets if unit(module) != unit(t)}
    assert ("backend.domain", "backend.db") in between  # the check sees real edges
    mutual = sorted((a, b) for a, b in between if (b, a) in between and a < b)
    assert mutual == []
