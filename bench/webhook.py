"""Webhook benchmark: signed WhatsApp webhook requests of 10 delivered statuses, into PostgreSQL.

On a fresh PostgreSQL database, against a real ``daybook serve`` with one
worker, this process posts Meta-shaped requests (``X-Hub-Signature-256`` with
the partner's app secret; 10 ``delivered`` PMP marketing statuses each, spread
over --channels channels) from --concurrency keep-alive connections, and prints:

- statuses/s, p50/p99 per request, server CPU µs per status (utime+stime of
  uvicorn from /proc over the window), PostgreSQL backend CPU per status;
- database round trips per request of 10 statuses: the server is restarted
  with DAYBOOK_DATABASE_URL pointing at bench/pgproxy.py, which counts the
  Sync and simple Query messages the server sends, over --trips requests;
- then Meta's retries (--retries requests sent again), and the checks: every
  status sent is one conversation and one ledger entry, none twice, and
  ``daybook verify``.

Targets are printed beside the figures, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    CountingProxy,
    GraphQL,
    HttpConnection,
    PostgresCpu,
    daybook,
    fresh_database,
    migrate_and_admin_key,
    percentile,
    round_trips,
    running_server,
    target,
)
from tests.webhooks import meta

STATUSES = 10

CREATE_PARTNER = """mutation { createPartner(name: "Hooks", currencyCode: "USD", dayPrice: "1")
  { partner { id } apiKey userErrors { code message } } }"""
CONFIGURE = """mutation($p: ID!, $s: String!) {
  configureWhatsAppWebhook(partnerId: $p, appSecret: $s, verifyToken: "bench")
  { partner { id } userErrors { code message } } }"""
PURCHASE = """mutation($p: ID!, $d: Int!) { purchaseDays(partnerId: $p, days: $d, comment: "stock")
  { entry { id } userErrors { code message } } }"""
CREATE_CUSTOMER = """mutation($p: ID!, $n: String!) { createCustomer(partnerId: $p, name: $n)
  { customer { id wallet { id } } userErrors { code message } } }"""
TOP_UP = """mutation($w: ID!) { topUpWallet(walletId: $w, amount: "100000")
  { entry { id } userErrors { code message } } }"""
CREATE_CHANNEL = """mutation($c: ID!, $n: String!, $phone: String!, $pnid: String!) {
  createChannel(customerId: $c, name: $n, phoneNumber: $phone, phoneNumberId: $pnid)
  { channel { id } userErrors { code message } } }"""
EXTEND = """mutation($ch: ID!) { extendChannel(channelId: $ch, days: 30, comment: "bench")
  { channel { id } userErrors { code message } } }"""


async def seed(base: str, admin_key: str, channels: int) -> tuple[str, list[str]]:
    """A partner with a signed webhook and ``channels`` live, funded channels; returns the
    partner id and the channels' phone_number_ids."""
    gql = GraphQL(base)
    try:
        made = (await gql(CREATE_PARTNER, key=admin_key))["createPartner"]
        partner, key = made["partner"]["id"], made["apiKey"]
        await gql(CONFIGURE, {"p": partner, "s": meta.APP_SECRET}, admin_key)
        await gql(PURCHASE, {"p": partner, "d": 30 * channels}, admin_key)

        async def one(n: int) -> str:
            customer = (await gql(CREATE_CUSTOMER, {"p": partner, "n": f"C{n}"}, key))[
                "createCustomer"
            ]["customer"]
            await gql(TOP_UP, {"w": customer["wallet"]["id"]}, key)
            pnid = f"{200000 + n}"
            variables = {
                "c": customer["id"],
                "n": f"Line {n}",
                "phone": f"+4915110{n:06d}",
                "pnid": pnid,
            }
            channel = (await gql(CREATE_CHANNEL, variables, key))["createChannel"]["channel"]
            await gql(EXTEND, {"ch": channel["id"]}, key)
            return pnid

        pnids = await asyncio.gather(*(one(n) for n in range(channels)))
    finally:
        await gql.close()
    return partner, list(pnids)


def make_requests(run: str, count: int, pnids: list[str]) -> list[tuple[bytes, list[str]]]:
    """``count`` signed bodies of 10 delivered statuses each, and their message ids."""
    made = []
    now = int(time.time())  # in force under the shipped rate card
    for n in range(count):
        ids = [f"wamid.{run}.{n}.{k}" for k in range(STATUSES)]
        statuses = [
            meta.status(m, "delivered", f"491511{(n * STATUSES + k) % 10**7:07d}", timestamp=now)
            for k, m in enumerate(ids)
        ]
        made.append((meta.encode(meta.body(*statuses, phone_number_id=pnids[n % len(pnids)])), ids))
    return made


async def drive(
    port: int, partner: str, requests: list[tuple[bytes, list[str]]], concurrency: int
) -> tuple[float, list[float], list[str]]:
    """Post every request once from ``concurrency`` connections; (seconds, latencies, failures)."""
    latencies: list[float] = []
    failures: list[str] = []
    queue = iter(requests)
    path = f"/webhooks/whatsapp/{partner}"

    async def worker() -> None:
        conn = HttpConnection("127.0.0.1", port)
        for raw, _ in queue:
            headers = {"Content-Type": "application/json", "X-Hub-Signature-256": meta.sign(raw)}
            started = time.perf_counter()
            status, answer = await conn.request("POST", path, raw, headers)
            latencies.append(time.perf_counter() - started)
            if status != 200 or json.loads(answer).get("status") != "PROCESSED":
                failures.append(f"{status} {answer[:200]!r}")
        await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, failures


async def main(args: argparse.Namespace) -> None:
    began = time.perf_counter()
    sent: list[str] = []
    async with fresh_database() as url:
        admin_key = migrate_and_admin_key(url)
        pg = PostgresCpu(url)
        try:
            with running_server(url, workers=1) as server:
                partner, pnids = await seed(server.base, admin_key, args.channels)
                warm = make_requests("warm", args.warmup, pnids)
                measured = make_requests("run", args.requests, pnids)
                print(
                    f"== webhook: PostgreSQL, 1 worker, {args.requests:,} signed requests x "
                    f"{STATUSES} delivered statuses over {len(pnids)} channels, "
                    f"{args.concurrency} connections ==",
                    flush=True,
                )
                await drive(server.port, partner, warm, args.concurrency)
                meter = server.cpu()
                meter.start()
                await pg.start()
                seconds, latencies, failures = await drive(
                    server.port, partner, measured, args.concurrency
                )
                server_us = meter.stop()
                pg_us = await pg.stop()
                rss = server.rss_kib() / 1024
                for batch in (warm, measured):
                    sent += [m for _, ids in batch for m in ids]
            statuses = args.requests * STATUSES
            print(
                f"  {statuses / seconds:>8,.0f} statuses/s{target('≥ 2,000 statuses/s')}\n"
                f"  p50 {percentile(latencies, 50) * 1000:.1f} ms   "
                f"p99 {percentile(latencies, 99) * 1000:.1f} ms per request   "
                f"({args.requests:,} requests in {seconds:.1f} s, {len(failures)} not PROCESSED"
                f"{': ' + failures[0] if failures else ''})\n"
                f"  server CPU {server_us / statuses:,.0f} µs/status{target('≤ 350 µs/status')}\n"
                f"  postgres CPU {'n/a' if pg_us is None else f'{pg_us / statuses:,.0f} µs/status'}"
                f"   server RSS {rss:.0f} MiB",
                flush=True,
            )

            proxy = CountingProxy(url)
            try:
                with running_server(proxy.url, workers=1) as server:
                    tripwarm = make_requests("tripwarm", 20, pnids)
                    await drive(server.port, partner, tripwarm, 1)
                    counted = make_requests("trips", args.trips, pnids)
                    before = proxy.counts()
                    _, _, trip_failures = await drive(server.port, partner, counted, 1)
                    trips = round_trips(before, proxy.counts())
                    sent += [m for batch in (tripwarm, counted) for _, ids in batch for m in ids]
            finally:
                proxy.close()
            n = args.trips
            print(
                f"  DB round trips per request of {STATUSES} statuses: {trips['round_trips'] / n:.1f}"
                f"{target('≤ 8')}\n"
                f"    (Sync {trips.get('S', 0) / n:.1f} + simple Query {trips.get('Q', 0) / n:.1f}; "
                f"Bind {trips.get('B', 0) / n:.1f}, Parse {trips.get('P', 0) / n:.1f}; "
                f"{n} sequential requests through bench/pgproxy.py, "
                f"{len(trip_failures)} not PROCESSED)",
                flush=True,
            )

            with running_server(url, workers=1) as server:
                retried = measured[: args.retries]
                _, _, retry_failures = await drive(server.port, partner, retried, args.concurrency)
            print(
                f"  Meta's retries: {len(retried)} requests sent again, {len(retry_failures)} not PROCESSED"
            )

            conn = await asyncpg.connect(url)
            try:
                rows = await conn.fetch("SELECT external_id, ledger_entry_id FROM conversations")
                entries = await conn.fetchval(
                    "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'CONVERSATION_CHARGE'"
                )
            finally:
                await conn.close()
            external = [row["external_id"] for row in rows]
            twice = len(external) - len(set(external))
            missing = len(set(sent) - set(external))
            unexpected = len(set(external) - set(sent))
            with_entry = sum(1 for row in rows if row["ledger_entry_id"] is not None)
            ok = twice == 0 and missing == 0 and unexpected == 0 and entries == len(sent)
            print(
                f"checks: {len(sent):,} statuses sent, {len(rows):,} conversations "
                f"({with_entry:,} with a ledger entry), {entries:,} CONVERSATION_CHARGE entries; "
                f"charged twice {twice}, missing {missing}, unexpected {unexpected}: "
                f"{'every status charged exactly once' if ok else 'NOT exactly once'}"
            )
            verify = daybook(url, "verify").strip()
            print(f"  daybook verify: {verify.splitlines()[-1] if verify else 'ok'}")
        finally:
            await pg.close()
    print(f"(webhook bench took {time.perf_counter() - began:.0f} s)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog=__doc__.split("\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--requests", type=int, default=2000, help="measured requests")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured requests first")
    parser.add_argument("--channels", type=int, default=100, help="channels (and wallets)")
    parser.add_argument("--concurrency", type=int, default=32, help="client connections")
    parser.add_argument("--trips", type=int, default=50, help="requests counted via the proxy")
    parser.add_argument("--retries", type=int, default=100, help="requests sent a second time")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
