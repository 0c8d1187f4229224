"""Schema-driven fuzzing: every query and mutation, as each of the three roles, against a real server.

Operations are generated from the served schema by hypothesis-graphql: valid
ones (arguments of the right types, any values) and ones with one schema
violation. Every answer must be a clean GraphQL answer or a 4xx: never a 5xx,
never a trace, never the mask of an unexpected error. Afterwards the ledger
invariants must hold (``daybook verify``).

Bounded to run well under two minutes per database; the examples are
derandomised so that CI is repeatable (``DAYBOOK_FUZZ_SEED`` explores anew).
"""

from __future__ import annotations

import asyncio
import os
import string
from datetime import UTC

import httpx
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from backend.api.schema import build_schema
from tests.factories import EXTEND, PURCHASE_DAYS, make_channel, make_tenant
from tests.servers import daybook, running_server

EXAMPLES_PER_ROLE = int(os.environ.get("DAYBOOK_FUZZ_EXAMPLES", "120"))
FUZZ_SEED = int(os.environ.get("DAYBOOK_FUZZ_SEED", "20261201"))
UNEXPECTED = ("Traceback", "Internal server error", 'File "/')

# Values for our scalars: mostly well-formed, sometimes not, never only garbage.
_decimals = st.one_of(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=6, min_value=-(10**7), max_value=10**7
    ).map(str),
    st.text(string.digits + ".-e,", max_size=12),
    st.text(max_size=20),
)
_datetimes = st.one_of(
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z", "2026-13-45", ""]),
    st.text(max_size=20),
)
CUSTOM_SCALARS = {
    "Decimal": _decimals.map(nodes.String),
    "DateTime": _datetimes.map(nodes.String),
    "JSON": st.just(nodes.String("{}")),
}


def _served_sdl() -> str:
    return build_schema().as_str()


def _run_examples(sdl: str, mode: Mode, check) -> None:
    @seed(FUZZ_SEED)
    @settings(
        max_examples=EXAMPLES_PER_ROLE // 2,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(query=from_schema(sdl, custom_scalars=CUSTOM_SCALARS, mode=mode))
    def run(query: str) -> None:
        check(query)

    run()


def _fuzz(base: str, keys: dict[str, str]) -> list[str]:
    """Run the generated operations as each role; the problems found (empty when all is well)."""
    sdl = _served_sdl()
    problems: list[str] = []
    client = httpx.Client(base_url=base, timeout=30)

    def check(role: str, query: str) -> None:
        response = client.post(
            "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {keys[role]}"}
        )
        text = response.text
        if response.status_code >= 500 or any(mark in text for mark in UNEXPECTED):
            problems.append(f"{role} {response.status_code}: {query[:300]!r} -> {text[:300]!r}")

    for role in keys:
        for mode in (Mode.POSITIVE, Mode.NEGATIVE):
            _run_examples(sdl, mode, lambda query, role=role: check(role, query))
    client.close()
    return problems


async def test_no_operation_as_any_role_breaks_the_server(db, admin):
    await admin.mutate(
        'mutation { importRateCard(csv: "market,category,price\\n*,MARKETING,0.05\\n",'
        ' currencyCode: "USD", effectiveFrom: "2026-01-01T00:00:00Z") { userErrors { code } } }'
    )
    t = await make_tenant(admin, funds="100")
    await admin.mutate(PURCHASE_DAYS, {"partnerId": t.partner_id, "days": 100, "comment": "stock"})
    channel = await make_channel(t.partner, t.customer_id, 900)
    await t.partner.mutate(EXTEND, {"id": channel["id"], "days": 5, "comment": "first"})
    keys = {"ADMIN": admin.key, "PARTNER": t.partner.key, "CUSTOMER": t.customer.key}

    def probe() -> list[str]:
        with running_server(db.url) as base:
            return _fuzz(base, keys)

    problems = await asyncio.to_thread(probe)
    assert problems == [], "\n".join(problems[:20])
    verified = await asyncio.to_thread(daybook, db.url, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
