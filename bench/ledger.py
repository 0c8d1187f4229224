"""Ledger benchmark: debits (adjustWallet) and wallet reads over GraphQL HTTP, on PostgreSQL.

On a fresh PostgreSQL database, against a real ``daybook serve`` (a subprocess),
with ``wrk`` as the load (a separate process; apt-get install wrk):

debits  ``adjustWallet(amount: "-0.000001")`` spread over --wallets wallets:
        one worker (--one-connections clients): server CPU µs per debit;
        --workers workers with --connections clients: debits/s; p50/p99 of both;
        PostgreSQL backend CPU per debit beside the server's.
pgbench the statement the server runs per debit (movements.py's conditional
        UPDATE of the wallet + INSERT of the entry, one autocommit statement), as a
        generated pgbench script on the same wallets: PostgreSQL's TPS, its
        backend CPU per transaction, and server debits/s : pgbench TPS.
reads   ``wallet(id) { balance available entries(first: 20) {...} }`` over
        --read-wallets wallets that hold at least 20 entries: requests/s, p50/p99,
        server CPU µs per request, one worker and --workers workers.
trips   PostgreSQL round trips (Sync + simple Query messages) per debit and per
        read, counted by bench/pgproxy.py between one worker and PostgreSQL.

Server CPU is utime+stime from /proc/<pid>/stat of uvicorn's master and its
workers over the measured window. Targets are printed beside the figures,
never asserted. Then the posted entries are counted against the answers and
``daybook verify`` checks the ledger invariants.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.domain.money import MAX_BALANCE_MICROS
from bench.common import (
    CountingProxy,
    GraphQL,
    HttpConnection,
    PostgresCpu,
    Server,
    daybook,
    fresh_database,
    migrate_and_admin_key,
    round_trips,
    run_wrk,
    running_server,
    target,
    write_wrk_script,
)

DEBIT = (
    'mutation($w: ID!) { adjustWallet(walletId: $w, amount: "-0.000001", comment: "bench")'
    " { entry { id balanceAfter { amount } } userErrors { code } } }"
)
READ = (
    "query($w: ID!) { wallet(id: $w) { id balance { amount currencyCode } available { amount }"
    " entries(first: 20) { edges { node { id kind amount { amount } balanceAfter { amount }"
    " comment reference createdAt } } pageInfo { hasNextPage endCursor } } } }"
)
CREATE_PARTNER = """mutation { createPartner(name: "Bench", currencyCode: "USD", dayPrice: "1")
  { partner { id } apiKey userErrors { code message } } }"""
CREATE_CUSTOMER = """mutation($p: ID!, $n: String!) { createCustomer(partnerId: $p, name: $n)
  { customer { wallet { id } } userErrors { code message } } }"""
TOP_UP = """mutation($w: ID!, $a: Decimal!) { topUpWallet(walletId: $w, amount: $a)
  { entry { id } userErrors { code message } } }"""


async def seed(base: str, admin_key: str, wallets: int, read_wallets: int) -> tuple[str, list[str]]:
    """Through the API: a partner, ``wallets`` customers with 1,000 USD each, and 20 more
    small top-ups on the first ``read_wallets`` (so a read has 20 entries to show)."""
    gql = GraphQL(base)
    try:
        made = (await gql(CREATE_PARTNER, key=admin_key))["createPartner"]
        partner, key = made["partner"]["id"], made["apiKey"]
        created = await gql.many(
            (CREATE_CUSTOMER, {"p": partner, "n": f"Customer {n}"}, key) for n in range(wallets)
        )
        ids = [row["createCustomer"]["customer"]["wallet"]["id"] for row in created]
        await gql.many((TOP_UP, {"w": w, "a": "1000"}, key) for w in ids)
        await gql.many(
            (TOP_UP, {"w": w, "a": "0.01"}, key) for _ in range(20) for w in ids[:read_wallets]
        )
    finally:
        await gql.close()
    return key, ids


def body(query: str, wallet: str) -> str:
    return json.dumps({"query": query, "variables": {"w": wallet}})


async def measure(
    server: Server,
    pg: PostgresCpu,
    script: Path,
    connections: int,
    seconds: float,
    warmup: float,
) -> dict:
    """wrk for ``warmup`` (not counted: pools fill, caches warm), then for ``seconds``
    with the server's and PostgreSQL's CPU read before and after."""
    warmed = 0
    if warmup:
        warmed = (
            await asyncio.to_thread(run_wrk, server.base, script, connections, warmup)
        ).requests
    meter = server.cpu()
    meter.start()
    await pg.start()
    result = await asyncio.to_thread(run_wrk, server.base, script, connections, seconds)
    server_us = meter.stop()
    pg_us = await pg.stop()
    units = max(result.requests, 1)
    return {
        "wrk": result,
        "server_us": server_us / units,
        "pg_us": None if pg_us is None else pg_us / units,
        "rss_mib": server.rss_kib() / 1024,
        "all_answers": warmed + result.requests,
        "connections": connections,
    }


def report(
    label: str, unit: str, figures: dict, rate_target: str = "", cpu_target: str = ""
) -> None:
    wrk = figures["wrk"]
    pg = figures["pg_us"]
    print(
        f"  {label:<22} {wrk.rate:>8,.0f} {unit}/s{rate_target}\n"
        f"  {'':<22} p50 {wrk.p50_ms:.2f} ms   p99 {wrk.p99_ms:.2f} ms   "
        f"({wrk.requests:,} answers in {wrk.seconds:.1f} s; non-2xx {wrk.non_2xx}, "
        f"bad {wrk.bad}{'; ' + wrk.socket_errors if wrk.socket_errors else ''})\n"
        f"  {'':<22} server CPU {figures['server_us']:,.0f} µs/{unit}{cpu_target}   "
        f"postgres CPU {'n/a' if pg is None else f'{pg:,.0f} µs/{unit}'}   "
        f"server RSS {figures['rss_mib']:.0f} MiB"
    )


# ---------------------------------------------------------------- pgbench


def move_statement() -> tuple[str, str]:
    """The server's PostgreSQL debit statement (backend/domain/movements.py), and where it came from."""
    try:
        from backend.domain import ledger, movements

        sql = movements.postgres_statement(ledger.BOOK, ledger._GUARD_DEBIT_AVAILABLE)
        return sql, "backend/domain/movements.py (postgres_statement, the money book, debit guard)"
    except (ImportError, AttributeError, KeyError) as missing:
        raise SystemExit(
            f"bench/ledger.py builds the debit statement with backend/domain/movements.py "
            f"(postgres_statement, ledger.BOOK, ledger._GUARD_DEBIT_AVAILABLE) and could not: "
            f"{missing!r}. Point move_statement() at where the statement lives now."
        ) from missing


# One line: the arrays of entry columns have one element each.
PGBENCH_PARAMS = {
    "1": ":wallet_id",
    "2": ":amount",
    "3": ":max_balance",
    "4": "ARRAY[:amount]",  # amounts
    "5": "ARRAY[:amount]",  # running totals
    "6": "ARRAY[:kind]",
    "7": "ARRAY[:comment]",
    "8": "ARRAY[NULL]",  # reference: none for an adjustment
    "9": "now()",  # created_at: the server sends its clock's time
}


def pgbench_script(path: Path, first_wallet: int, last_wallet: int) -> Path:
    sql, _ = move_statement()
    sql = re.sub(r"\$(\d+)", lambda m: PGBENCH_PARAMS[m.group(1)], sql)
    path.write_text(
        f"-- generated by bench/ledger.py: one debit as the server writes it\n"
        f"\\set wallet_id random({first_wallet}, {last_wallet})\n"
        # No BEGIN/COMMIT: the server runs a debit without an idempotency key
        # as this one statement on an autocommit connection.
        f"{sql.strip()};\n"
    )
    return path


async def run_pgbench(
    url: str, script: Path, clients: int, seconds: float, pg: PostgresCpu
) -> dict | None:
    if shutil.which("pgbench") is None:
        print("  pgbench: skipped, not installed (apt-get install postgresql-client)")
        return None
    parts = urlsplit(url)
    command = [
        "pgbench",
        "-n",
        "-M",
        "prepared",
        "-f",
        str(script),
        "-c",
        str(clients),
        "-j",
        "2",
        "-T",
        str(int(seconds)),
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "postgres",
        "-D",
        "amount=-1",
        "-D",
        f"max_balance={MAX_BALANCE_MICROS}",
        "-D",
        "kind=ADJUSTMENT",
        "-D",
        "comment=pgbench",
        parts.path.lstrip("/"),
    ]
    await pg.start()
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    done = asyncio.create_task(process.communicate())
    while not done.done():
        await pg.sample()  # pgbench's backends end with it: read them while they live
        await asyncio.wait({done}, timeout=0.1)
    out, err = done.result()
    pg_us = await pg.stop()
    text = out.decode()
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", text)
    count = re.search(r"number of transactions actually processed: (\d+)", text)
    if process.returncode != 0 or not tps or not count:
        print(f"  pgbench failed:\n{text}\n{err.decode()}")
        return None
    transactions = int(count.group(1))
    latency = re.search(r"latency average = ([\d.]+) ms", text)
    return {
        "tps": float(tps.group(1)),
        "transactions": transactions,
        "latency_ms": float(latency.group(1)) if latency else float("nan"),
        "pg_us": None if pg_us is None else pg_us / max(transactions, 1),
    }


# ---------------------------------------------------------------- round trips


async def count_trips(
    url: str, key: str, wallets: list[str], read_wallets: list[str], n: int
) -> int:
    """Prints round trips per debit and per read; returns the debits it posted."""
    proxy = CountingProxy(url)
    try:
        with running_server(proxy.url, workers=1) as server:
            conn = HttpConnection("127.0.0.1", server.port)
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
            for label, query, targets in (("debit", DEBIT, wallets), ("read", READ, read_wallets)):
                for i in range(n + 20):
                    if i == 20:  # the first 20 warm the pool and caches
                        before = proxy.counts()
                    raw = body(query, targets[i % len(targets)]).encode()
                    status, answer = await conn.request("POST", "/graphql", raw, headers)
                    if status != 200 or b'"errors"' in answer:
                        raise RuntimeError(f"{label}: {status} {answer[:300]!r}")
                trips = round_trips(before, proxy.counts())
                print(
                    f"  round trips per {label:<5} {trips['round_trips'] / n:5.2f}   "
                    f"(Sync {trips.get('S', 0) / n:.2f}, simple Query {trips.get('Q', 0) / n:.2f}, "
                    f"Parse {trips.get('P', 0) / n:.2f}, Bind {trips.get('B', 0) / n:.2f}; "
                    f"{n} sequential requests, one worker, through bench/pgproxy.py)"
                )
            await conn.close()
    finally:
        proxy.close()
    return n + 20


# ---------------------------------------------------------------- main


async def main(args: argparse.Namespace) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("bench/ledger.py needs wrk: apt-get install -y wrk")
    started = time.perf_counter()
    async with fresh_database() as url:
        admin_key = migrate_and_admin_key(url)
        pg = PostgresCpu(url)
        scratch = Path(tempfile.mkdtemp(prefix="daybook-bench-"))
        answered = 0
        runs: dict[str, dict] = {}
        try:
            with running_server(url, workers=1) as server:
                key, wallets = await seed(server.base, admin_key, args.wallets, args.read_wallets)
                debits = write_wrk_script(
                    scratch / "debit.lua",
                    (body(DEBIT, w) for w in wallets),
                    key,
                    '"userErrors":[]',
                )
                reads = write_wrk_script(
                    scratch / "read.lua",
                    (body(READ, w) for w in wallets[: args.read_wallets]),
                    key,
                    '"edges":[{',
                )
                print(
                    f"== ledger: PostgreSQL, {args.wallets:,} wallets, wrk for {args.seconds:g} s "
                    f"per run after {args.warmup:g} s of warm-up ==\n"
                    "debits: adjustWallet(amount: -0.000001) over GraphQL HTTP"
                )
                runs["debit1"] = await measure(
                    server, pg, debits, args.one_connections, args.seconds, args.warmup
                )
                report(
                    f"1 worker, {args.one_connections} conns",
                    "debit",
                    runs["debit1"],
                    cpu_target=target("≤ 1,000 µs/debit, one worker"),
                )
                runs["read1"] = await measure(
                    server, pg, reads, args.one_connections, args.seconds, args.warmup
                )
            with running_server(url, workers=args.workers) as server:
                runs["debitN"] = await measure(
                    server, pg, debits, args.connections, args.seconds, args.warmup
                )
                report(
                    f"{args.workers} workers, {args.connections} conns",
                    "debit",
                    runs["debitN"],
                    rate_target=target("≥ 1,000 debits/s, 2 workers, 64 connections"),
                )
                runs["readN"] = await measure(
                    server, pg, reads, args.connections, args.seconds, args.warmup
                )
            answered = sum(runs[r]["all_answers"] for r in ("debit1", "debitN"))
            in_flight = sum(2 * runs[r]["connections"] for r in ("debit1", "debitN"))

            ids = sorted(int(w) for w in wallets)
            script = pgbench_script(scratch / "debit.sql", ids[0], ids[-1])
            _, source = move_statement()
            bench = await run_pgbench(url, script, args.pgbench_clients, args.seconds, pg)
            if bench:
                print(
                    f"pgbench: the server's debit statement from {source},\n"
                    f"  autocommit, -M prepared, {args.pgbench_clients} clients, "
                    f"{args.seconds:g} s, random wallet of {len(ids):,} (script: {script.name} below)"
                )
                pg_us = bench["pg_us"]
                print(
                    f"  {'pgbench':<22} {bench['tps']:>8,.0f} tps   latency avg "
                    f"{bench['latency_ms']:.2f} ms   postgres CPU "
                    f"{'n/a' if pg_us is None else f'{pg_us:,.0f} µs/transaction'}"
                )
                for label, run in (("1 worker", "debit1"), (f"{args.workers} workers", "debitN")):
                    ratio = runs[run]["wrk"].rate / bench["tps"]
                    print(
                        f"  server debits/s : pgbench tps ({label}) = "
                        f"{runs[run]['wrk'].rate:,.0f} : {bench['tps']:,.0f} = {ratio:.2f} : 1"
                    )
            print("reads: wallet(id) with balance, available and its 20 latest entries")
            report(f"1 worker, {args.one_connections} conns", "read", runs["read1"])
            report(
                f"{args.workers} workers, {args.connections} conns",
                "read",
                runs["readN"],
                rate_target=target("≥ 2x today's requests/s"),
            )
            if args.trips:
                answered += await count_trips(
                    url, key, wallets, wallets[: args.read_wallets], args.trips
                )

            conn = await asyncpg.connect(url)
            try:
                posted = await conn.fetchval(
                    "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'ADJUSTMENT'"
                    " AND comment = 'bench'"
                )
            finally:
                await conn.close()
            print(
                f"checks: {posted:,} bench debits posted for {answered:,} answered by the "
                f"server, warm-ups and round-trip counting included (may exceed by what was in flight when wrk "
                f"stopped, at most {in_flight}): "
                f"{'ok' if answered <= posted <= answered + in_flight else 'MISMATCH'}"
            )
            verify = daybook(url, "verify")
            print(
                f"  daybook verify: {verify.strip().splitlines()[-1] if verify.strip() else 'ok'}"
            )
            if bench:
                print(f"-- {script.name} --\n{script.read_text()}", end="")
        finally:
            await pg.close()
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"(ledger bench took {time.perf_counter() - started:.0f} s)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog=__doc__.split("\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--wallets", type=int, default=1000, help="wallets debits spread over")
    parser.add_argument(
        "--read-wallets", type=int, default=100, help="wallets read (each gets 20+ entries)"
    )
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured run")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured load before each run")
    parser.add_argument("--workers", type=int, default=2, help="workers of the throughput runs")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections, N workers")
    parser.add_argument(
        "--one-connections", type=int, default=16, help="wrk connections, one worker"
    )
    parser.add_argument("--pgbench-clients", type=int, default=32)
    parser.add_argument(
        "--trips", type=int, default=100, help="requests counted through the proxy (0: skip)"
    )
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
