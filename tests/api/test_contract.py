"""The served schema must pass ``../shared/tools/contract_check.py`` with nothing left over.

Every type, field and argument of the public contract is served; the checker's
exit status and its report are both checked, so a new gap fails the run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend.api.schema import build_schema

ROOT = Path(__file__).resolve().parents[2]
RELATIVE = Path("shared") / "tools" / "contract_check.py"


def find_checker() -> Path | None:
    """The checker beside this checkout (``../shared``), or, for a clone made from a
    local checkout (``git clone . /tmp/fresh``), beside the checkout it came from;
    ``DAYBOOK_CONTRACT_CHECKER`` overrides both."""
    candidates = [ROOT.parent / RELATIVE]
    origin = subprocess.run(
        ["git", "config", "--get", "remote.origin.url"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if origin and Path(origin).is_dir():
        candidates.append(Path(origin).resolve().parent / RELATIVE)
    if os.environ.get("DAYBOOK_CONTRACT_CHECKER"):
        candidates.insert(0, Path(os.environ["DAYBOOK_CONTRACT_CHECKER"]))
    return next((path for path in candidates if path.is_file()), None)


def test_served_schema_conforms_to_the_contract(tmp_path):
    checker = find_checker()
    if checker is None:
        pytest.fail(f"contract checker not found at ../{RELATIVE} (or beside the origin checkout)")
    served = tmp_path / "served.graphql"
    served.write_text(build_schema().as_str())
    print(served.read_text())
    result = subprocess.run(
        [sys.executable, str(checker), str(served), "--with", "planned/payments.graphql"],
        capture_output=True,
        text=True,
        check=False,
    )
    gaps = [line for line in result.stdout.splitlines() if not line.startswith("contract")]
    assert "contract + payments.graphql: conforms" in result.stdout, result.stdout + result.stderr
    assert gaps == [], "schema breaks the contract:\n" + "\n".join(gaps)
    assert result.returncode == 0, result.stdout + result.stderr


async def test_the_schema_served_over_http_is_the_same(http, admin):
    """Introspection through the running app yields the schema the checker read."""
    body = await admin.data("{ __schema { mutationType { fields { name } } } }")
    served = {f["name"] for f in body["__schema"]["mutationType"]["fields"]}
    assert {"topUpWallet", "adjustWallet", "purchaseDays", "createApiKey"} <= served
