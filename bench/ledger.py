"""Ledger benchmark: debits per second, by hand (`make bench` or `python bench/ledger.py`).

For SQLite and PostgreSQL it prints:
- debits/s through the domain layer (``wallets.charge_integration``: access
  check, idempotent transaction, conditional debit, read-back) with 1, 8 and
  64 concurrent callers, on one hot wallet and spread over 1,000 wallets;
- on PostgreSQL, a raw asyncpg baseline issuing the same statements, so the
  ratio shows what Tortoise and the domain code cost;
- debits/s through GraphQL over HTTP against one ``daybook serve`` worker,
  driven by ``wrk`` (apt-get install wrk), with p50/p99 latency and the
  server's resident memory; then the ledger invariants are checked.

Nothing here asserts: it measures. Options: --only sqlite|postgres, --ops N.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.db import close_db, init_db, release_connection, run_migrations  # noqa: E402
from backend.domain import api_keys, tenants, wallets  # noqa: E402
from backend.domain.access import SYSTEM, Principal  # noqa: E402
from backend.domain.models import Role  # noqa: E402
from backend.domain.verify import find_breaches  # noqa: E402
from backend.settings import Settings  # noqa: E402
from tests.servers import running_server  # noqa: E402

PG_ADMIN_URL = os.environ.get("DAYBOOK_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/test")
CONCURRENCY = (1, 8, 64)
SPREAD_WALLETS = 1000


def settings_for(url: str) -> Settings:
    return Settings(database_url=url, redis_url=None, env="bench", db_pool_size=64)


async def prepare(url: str) -> tuple[Principal, list[int], str]:
    """One partner, 1,000 customers with funded wallets; returns the partner, wallet ids, a key."""
    await run_migrations(settings_for(url))
    await init_db(settings_for(url))
    made = await tenants.create_partner(SYSTEM, name="Bench", currency_code="USD", day_price="1")
    partner = Principal(role=Role.PARTNER, partner_id=made.partner.id)
    wallet_ids = []
    for n in range(SPREAD_WALLETS):
        customer = await tenants.create_customer(
            partner, partner_id=str(made.partner.id), name=f"Customer {n}"
        )
        await wallets.top_up(partner, wallet_id=str(customer.wallet.id), amount="1000000")
        wallet_ids.append(customer.wallet.id)
    return partner, wallet_ids, made.key.secret


async def run_concurrently(
    ops: int, callers: int, debit: Callable[[int], Awaitable[None]]
) -> tuple[float, list[float]]:
    """``ops`` debits by ``callers`` concurrent workers; returns (ops/s, latencies in s)."""
    counter = iter(range(ops))
    latencies: list[float] = []

    async def worker() -> None:
        for n in counter:
            started = time.perf_counter()
            await debit(n)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(callers)))
    return ops / (time.perf_counter() - started), latencies


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def line(label: str, rate: float, latencies: list[float]) -> None:
    print(
        f"  {label:<44} {rate:>8,.0f} debits/s   p50 {percentile(latencies, 50) * 1000:6.2f} ms"
        f"   p99 {percentile(latencies, 99) * 1000:7.2f} ms"
    )


async def bench_domain(partner: Principal, wallet_ids: list[int], ops: int) -> dict:
    results = {}
    for layout in ("hot", "spread"):
        for callers in CONCURRENCY:

            async def debit(n: int, layout: str = layout) -> None:
                wallet = wallet_ids[0] if layout == "hot" else wallet_ids[n % len(wallet_ids)]
                await wallets.charge_integration(
                    partner, wallet_id=str(wallet), amount="0.000001", comment="bench"
                )

            rate, latencies = await run_concurrently(ops, callers, debit)
            results[(layout, callers)] = rate
            line(f"domain  {layout:<6} wallet(s), {callers:>2} callers", rate, latencies)
    return results


RAW_STATEMENTS = {
    "access": (
        "SELECT w.*, c.partner_id FROM wallets w JOIN customers c ON c.id = w.customer_id"
        " WHERE w.id = $1"
    ),
    "move": """
        WITH moved AS (
            UPDATE wallets SET balance_micros = balance_micros + $2::bigint
            WHERE id = $1 AND balance_micros + $2 - held_micros + credit_limit_micros >= 0
              AND balance_micros + $2 >= -CAST($3 AS BIGINT)
            RETURNING id, balance_micros, held_micros, credit_limit_micros
        ), entry AS (
            INSERT INTO ledger_entries
                (wallet_id, kind, amount_micros, balance_after_micros, comment, reference, created_at)
            SELECT id, 'INTEGRATION_CHARGE', $2::bigint, balance_micros, 'bench', NULL, now()
            FROM moved RETURNING id, balance_after_micros
        )
        SELECT entry.id, entry.balance_after_micros, moved.held_micros, moved.credit_limit_micros
        FROM entry CROSS JOIN moved
    """,
}


async def bench_raw_asyncpg(url: str, wallet_ids: list[int], ops: int) -> dict:
    # The same release hook as the app's pool, so both do the same round trips.
    pool = await asyncpg.create_pool(url, min_size=1, max_size=64, reset=release_connection)
    results = {}
    try:
        for layout in ("hot", "spread"):
            for callers in CONCURRENCY:

                async def debit(n: int, layout: str = layout) -> None:
                    wallet = wallet_ids[0] if layout == "hot" else wallet_ids[n % len(wallet_ids)]
                    async with pool.acquire() as conn:
                        await conn.fetchrow(RAW_STATEMENTS["access"], wallet)
                        async with conn.transaction():
                            entry_id = await conn.fetchval(
                                RAW_STATEMENTS["move"], wallet, -1, 10**18
                            )
                        assert entry_id is not None

                rate, latencies = await run_concurrently(ops, callers, debit)
                results[(layout, callers)] = rate
                line(f"asyncpg {layout:<6} wallet(s), {callers:>2} callers", rate, latencies)
    finally:
        await pool.close()
    return results


CHARGE = """mutation($w: ID!) { chargeIntegration(walletId: $w, amount: "0.000001", comment: "bench")
  { entry { id } userErrors { code } } }"""


def rss_mib(port: str) -> float | None:
    """Resident memory of the ``daybook serve`` process listening on ``port``, if found."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if "serve" in cmdline and f"--port {port}" in cmdline:
                for row in (proc / "status").read_text().splitlines():
                    if row.startswith("VmRSS:"):
                        return int(row.split()[1]) / 1024
        except OSError:
            continue
    return None


WRK_SCRIPT = """
-- Bodies are Lua long strings: JSON escapes inside them reach the server untouched.
local bodies = {%(bodies)s}
local sent = 0
request = function()
  sent = sent + 1
  return wrk.format("POST", "/graphql", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer %(key)s",
  }, bodies[(sent %% #bodies) + 1])
end
"""


def run_wrk(base: str, script: Path, connections: int, seconds: int) -> dict[str, float]:
    """Drive the server with wrk (C, one thread) so the load generator stays cheap."""
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures: dict[str, float] = {}
    for row in output.splitlines():
        parts = row.split()
        if row.startswith("Requests/sec:"):
            figures["rate"] = float(parts[1])
        elif parts[:1] in (["50%"], ["99%"]):
            figures[parts[0]] = _milliseconds(parts[1])
        elif "Non-2xx" in row:
            figures["errors"] = float(parts[-1])
    return figures


def _milliseconds(text: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


async def bench_http(url: str, key: str, wallet_ids: list[int], seconds: int, workers: int) -> None:
    if shutil.which("wrk") is None:
        print("  graphql: skipped, wrk not installed (apt-get install wrk)")
        return
    with tempfile.TemporaryDirectory() as scratch, running_server(url, workers=workers) as base:
        port = base.rsplit(":", 1)[1]
        for layout, wallets in (("hot", wallet_ids[:1]), ("spread", wallet_ids)):
            script = Path(scratch) / f"{layout}.lua"
            bodies = (json.dumps({"query": CHARGE, "variables": {"w": str(w)}}) for w in wallets)
            script.write_text(
                WRK_SCRIPT % {"bodies": ", ".join(f"[[{body}]]" for body in bodies), "key": key}
            )
            for connections in (8, 64):
                figures = run_wrk(base, script, connections, seconds)
                print(
                    f"  graphql {layout:<6} wallet(s), {connections:>2} clients, {workers} worker(s)"
                    f"              {figures['rate']:>8,.0f} debits/s   p50 {figures['50%']:6.2f} ms"
                    f"   p99 {figures['99%']:7.2f} ms   non-2xx {figures.get('errors', 0):.0f}"
                )
        memory = rss_mib(port)
        if memory is not None:
            print(f"  server resident memory after the run: {memory:.0f} MiB")


async def run_backend(kind: str, ops: int, seconds: int, workers: int) -> None:
    if kind == "sqlite":
        directory = tempfile.mkdtemp(prefix="daybook-bench-")
        url = f"sqlite://{directory}/bench.sqlite3"
        drop = None
    else:
        name = f"daybook_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(PG_ADMIN_URL)
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

        async def drop() -> None:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()

    print(f"\n== {kind} ({ops} debits per run) ==")
    try:
        partner, wallet_ids, _ = await prepare(url)
        key = (await api_keys.issue(Role.PARTNER, partner_id=partner.partner_id)).secret
        domain = await bench_domain(partner, wallet_ids, ops)
        await close_db()  # from here on the baseline and the server own the database
        if kind == "postgres":
            await close_db()  # free its connections for the baseline's pool
            raw = await bench_raw_asyncpg(url, wallet_ids, ops)
            for config, rate in domain.items():
                print(
                    f"  domain/raw {config[0]:<6} {config[1]:>2} callers: "
                    f"{rate / raw[config]:.2f}x of raw asyncpg"
                )
        await bench_http(url, key, wallet_ids, seconds, workers)
        await init_db(settings_for(url))
        breaches = await find_breaches()
        print(f"  ledger invariants after the run: {'hold' if not breaches else breaches}")
    finally:
        await close_db()
        if drop:
            await drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--ops", type=int, default=2000, help="debits per domain/raw run")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers for HTTP")
    parser.add_argument("--seconds", type=int, default=10, help="length of each HTTP run")
    args = parser.parse_args()
    for kind in ("sqlite", "postgres"):
        if args.only in (None, kind):
            asyncio.run(run_backend(kind, args.ops, args.seconds, args.workers))


if __name__ == "__main__":
    main()
