"""Fan-out benchmark: balanceChanged subscribers on 2 workers sharing events through Redis.

Three kinds of process: ``daybook serve --workers 2`` (DAYBOOK_REDIS_URL set, a
channel of its own); a subscriber process (this script with --subscriber-process)
holding --subscribers own-wallet subscriptions (a CUSTOMER key each,
``balanceChanged(walletId)``) and --partner-wide partner-wide ones (the PARTNER
key, no walletId) over graphql-transport-ws; and this process, which seeds the
database through the API and then posts topUpWallet movements at --rate per
second over the wallets, open loop, for --seconds.

The same load runs first with nobody subscribed, then with every subscriber
connected. Printed: every event checked against every subscriber that should
get it (missing, twice, foreign), delivery latency p50/p99 (entry createdAt to
receipt, one clock) for own-wallet and partner-wide subscribers, server CPU
per delivery (all of it, and the part above the unsubscribed run), and server
memory per connection. Targets are printed beside the figures, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    BIN,
    GraphQL,
    HttpConnection,
    Server,
    fresh_database,
    migrate_and_admin_key,
    percentile,
    running_server,
    target,
)

SUBSCRIPTION = (
    "subscription($w: ID) { balanceChanged(walletId: $w) { wallet { id } entry { id createdAt } } }"
)
TOP_UP = (
    'mutation($w: ID!) { topUpWallet(walletId: $w, amount: "1")'
    " { wallet { id } entry { id } userErrors { code } } }"
)
CREATE_PARTNER = """mutation { createPartner(name: "Fanout", currencyCode: "USD", dayPrice: "1")
  { partner { id } apiKey userErrors { code message } } }"""
CREATE_CUSTOMER = """mutation($p: ID!, $n: String!) { createCustomer(partnerId: $p, name: $n)
  { customer { wallet { id } } apiKey userErrors { code message } } }"""


# ---------------------------------------------------------------- subscriber process


async def subscribe_all(plan: dict) -> None:
    """The subscriber process: connect everyone, say READY, record until 'stop' on stdin."""
    import websockets

    base = plan["base"].replace("http", "ws") + "/graphql"
    received: list[list[tuple[str, float]]] = [[] for _ in plan["subscribers"]]
    opening = asyncio.Semaphore(50)
    subscribed = 0
    all_subscribed = asyncio.Event()
    errors: Counter[str] = Counter()

    async def one(index: int, key: str, wallet: str | None) -> None:
        nonlocal subscribed
        async with opening:
            socket = await websockets.connect(
                base, subprotocols=["graphql-transport-ws"], max_queue=None, open_timeout=60
            )
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}
            await socket.send(json.dumps(init))
            ack = json.loads(await socket.recv())
            if ack.get("type") != "connection_ack":
                errors[f"no ack: {ack}"] += 1
            variables = {"w": wallet} if wallet else {}
            payload = {"query": SUBSCRIPTION, "variables": variables}
            await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        subscribed += 1
        if subscribed == len(plan["subscribers"]):
            all_subscribed.set()
        mine = received[index]
        try:
            async for raw in socket:
                now = time.time()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "next":
                    data = message["payload"].get("data") or {}
                    event = data.get("balanceChanged")
                    if event is None:
                        errors[f"error payload: {str(message)[:200]}"] += 1
                        continue
                    created = datetime.fromisoformat(event["entry"]["createdAt"]).timestamp()
                    mine.append((event["entry"]["id"], now - created))
                elif kind == "ping":
                    await socket.send(json.dumps({"type": "pong"}))
                elif kind in ("error", "complete"):
                    errors[f"{kind}: {str(message)[:200]}"] += 1
        except websockets.ConnectionClosed as closed:
            errors[f"closed: {closed}"] += 1

    tasks = [
        asyncio.create_task(one(n, key, wallet))
        for n, (key, wallet) in enumerate(plan["subscribers"])
    ]
    await asyncio.wait_for(all_subscribed.wait(), 180)
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    while (line := await stdin.readline()) and line.strip() != b"stop":
        if line.strip() == b"count":
            print(sum(len(got) for got in received), flush=True)
    for task in tasks:
        task.cancel()
    _write(plan["out"], json.dumps({"received": received, "errors": errors}))
    print("DONE", flush=True)


# ---------------------------------------------------------------- this process


def _write(path: str, text: str) -> None:
    Path(path).write_text(text)


def start_subscriber_process(plan_file: Path, plan: dict) -> subprocess.Popen:
    plan_file.write_text(json.dumps(plan))
    return subprocess.Popen(
        [
            str(BIN / "python"),
            str(Path(__file__).resolve()),
            "--subscriber-process",
            str(plan_file),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


async def seed(base: str, admin_key: str, count: int) -> tuple[str, list[tuple[str, str]]]:
    gql = GraphQL(base)
    try:
        made = (await gql(CREATE_PARTNER, key=admin_key))["createPartner"]
        partner, key = made["partner"]["id"], made["apiKey"]
        created = await gql.many(
            (CREATE_CUSTOMER, {"p": partner, "n": f"C{n}"}, key) for n in range(count)
        )
    finally:
        await gql.close()
    customers = [
        (row["createCustomer"]["apiKey"], row["createCustomer"]["customer"]["wallet"]["id"])
        for row in created
    ]
    return key, customers


async def movements(
    server: Server, key: str, wallets: list[str], rate: int, seconds: int
) -> tuple[dict[str, str], int, float]:
    """topUpWallet at ``rate``/s, open loop, round-robin over ``wallets``;
    returns {entry id: wallet id}, failures, and how late the sender fell behind (s)."""
    free: asyncio.Queue[HttpConnection] = asyncio.Queue()
    for _ in range(32):
        free.put_nowait(HttpConnection("127.0.0.1", server.port))
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    posted: dict[str, str] = {}
    failures = 0
    behind = 0.0

    async def one(wallet: str) -> None:
        nonlocal failures
        conn = await free.get()
        try:
            raw = json.dumps({"query": TOP_UP, "variables": {"w": wallet}}).encode()
            status, answer = await conn.request("POST", "/graphql", raw, headers)
            data = json.loads(answer).get("data") or {}
            moved = data.get("topUpWallet") or {}
            if status != 200 or moved.get("userErrors") or not moved.get("entry"):
                failures += 1
            else:
                posted[moved["entry"]["id"]] = moved["wallet"]["id"]
        finally:
            free.put_nowait(conn)

    tasks = []
    started = time.perf_counter()
    for n in range(rate * seconds):
        due = started + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            behind = max(behind, -delay)
        tasks.append(asyncio.create_task(one(wallets[n % len(wallets)])))
    await asyncio.gather(*tasks)
    while not free.empty():
        await free.get_nowait().close()
    return posted, failures, behind


async def main(args: argparse.Namespace) -> None:
    began = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="daybook-bench-fanout-"))
    env = {"DAYBOOK_REDIS_URL": args.redis, "DAYBOOK_REDIS_CHANNEL": f"bench-{uuid.uuid4().hex}"}
    async with fresh_database() as url:
        admin_key = migrate_and_admin_key(url)
        with running_server(url, workers=2, env=env) as server:
            partner_key, customers = await seed(server.base, admin_key, args.subscribers)
            wallets = [wallet for _, wallet in customers]
            print(
                f"== fan-out: {args.subscribers:,} own-wallet + {args.partner_wide} partner-wide "
                f"subscribers, 2 workers sharing events through Redis, {args.rate} movements/s "
                f"for {args.seconds} s ==",
                flush=True,
            )
            window = args.seconds + args.drain

            # 1. The same movements with nobody listening: what the movements alone cost.
            await movements(server, partner_key, wallets, args.rate, 2)  # warm-up
            meter = server.cpu()
            meter.start()
            alone, alone_failures, _ = await movements(
                server, partner_key, wallets, args.rate, args.seconds
            )
            await asyncio.sleep(args.drain)
            alone_us = meter.stop()
            idle_kib = server.rss_kib()

            # 2. Subscribers connect in their own process, then the same load.
            plan = {
                "base": server.base,
                "subscribers": [[key, wallet] for key, wallet in customers]
                + [[partner_key, None]] * args.partner_wide,
                "out": str(scratch / "received.json"),
            }
            listeners = start_subscriber_process(scratch / "plan.json", plan)
            try:
                ready = await asyncio.to_thread(listeners.stdout.readline)
                if ready.strip() != "READY":
                    raise RuntimeError("the subscriber process did not get ready")
                await asyncio.sleep(3)  # every subscribe message handled by the server
                connected_kib = server.rss_kib()
                meter.start()
                posted, failures, behind = await movements(
                    server, partner_key, wallets, args.rate, args.seconds
                )
                # The last events on their way: until every one is in, or none came for
                # --drain seconds (late is not lost), at most --drain-max seconds.
                expected = len(posted) * (args.partner_wide + 1)
                drain_started = last_progress = time.perf_counter()
                got = -1
                while time.perf_counter() - drain_started < args.drain_max:
                    listeners.stdin.write("count\n")
                    listeners.stdin.flush()
                    now_got = int(await asyncio.to_thread(listeners.stdout.readline))
                    if now_got >= expected:
                        break
                    if now_got != got:
                        got, last_progress = now_got, time.perf_counter()
                    elif time.perf_counter() - last_progress > args.drain:
                        break
                    await asyncio.sleep(0.5)
                drained = time.perf_counter() - drain_started
                with_us = meter.stop()
                listeners.stdin.write("stop\n")
                listeners.stdin.flush()
                await asyncio.to_thread(listeners.stdout.readline)
            finally:
                listeners.stdin.close()
                try:
                    listeners.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    listeners.kill()
                    listeners.wait()
        result = json.loads((scratch / "received.json").read_text())
    shutil.rmtree(scratch, ignore_errors=True)

    # Every event to every subscriber that should get it, once; nothing else.
    by_wallet: dict[str, set[str]] = {}
    for entry, wallet in posted.items():
        by_wallet.setdefault(wallet, set()).add(entry)
    everything = set(posted)
    own_lat: list[float] = []
    wide_lat: list[float] = []
    own = {"expected": 0, "missing": 0, "twice": 0, "foreign": 0}
    wide = dict(own)
    for (_, wallet), got in zip(plan["subscribers"], result["received"], strict=True):
        tally, latencies = (own, own_lat) if wallet else (wide, wide_lat)
        expected = by_wallet.get(wallet, set()) if wallet else everything
        ids = [entry for entry, _ in got]
        tally["expected"] += len(expected)
        tally["missing"] += len(expected - set(ids))
        tally["twice"] += len(ids) - len(set(ids))
        tally["foreign"] += len(set(ids) - expected)
        latencies += [lat for entry, lat in got if entry in expected]
    deliveries = len(own_lat) + len(wide_lat)
    connections = len(plan["subscribers"])
    print(
        f"  movements: {len(posted):,} posted in the measured run ({failures} failed; sender at "
        f"most {behind * 1000:.0f} ms behind schedule); {len(alone):,} in the unsubscribed run "
        f"({alone_failures} failed)"
    )
    for label, tally, latencies, goal in (
        ("own-wallet", own, own_lat, "p99 ≤ 150 ms"),
        ("partner-wide", wide, wide_lat, "p99 ≤ 250 ms"),
    ):
        print(
            f"  {label:<13} delivered {len(latencies):>7,}/{tally['expected']:<7,} missing "
            f"{tally['missing']}, twice {tally['twice']}, foreign {tally['foreign']}   "
            f"p50 {percentile(latencies, 50) * 1000:6.1f} ms   "
            f"p99 {percentile(latencies, 99) * 1000:6.1f} ms{target(goal)}"
        )
    complete = all(t["missing"] == t["twice"] == t["foreign"] == 0 for t in (own, wide))
    print(
        f"  {'every event reached every subscriber that should get it, once' if complete else 'DELIVERY INCOMPLETE'}"
        + (f"; subscriber-side errors: {dict(result['errors'])}" if result["errors"] else "")
    )
    print(
        f"  deliveries went on for {drained:.1f} s after the last movement was answered\n"
        f"  server CPU: {with_us / 1e6:.2f} s with subscribers ({args.seconds} s of load + "
        f"{drained:.1f} s of delivery), {alone_us / 1e6:.2f} s without ({window} s)\n"
        f"    per delivery {with_us / max(deliveries, 1):,.0f} µs (all of it), "
        f"{(with_us - alone_us) / max(deliveries, 1):,.0f} µs above the unsubscribed run; "
        f"per movement without subscribers {alone_us / max(len(alone), 1):,.0f} µs"
    )
    print(
        f"  server memory (master + 2 workers): {idle_kib / 1024:.0f} MiB before the "
        f"subscribers, {connected_kib / 1024:.0f} MiB with {connections:,} connected: "
        f"{(connected_kib - idle_kib) / connections:,.0f} KiB per connection"
    )
    print(f"(fanout bench took {time.perf_counter() - began:.0f} s)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog=__doc__.split("\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--subscribers", type=int, default=1000, help="own-wallet subscribers")
    parser.add_argument("--partner-wide", type=int, default=10, help="partner-wide subscribers")
    parser.add_argument("--rate", type=int, default=200, help="movements per second")
    parser.add_argument("--seconds", type=int, default=10, help="length of each load run")
    parser.add_argument(
        "--drain", type=int, default=3, help="stop waiting for events after this long without one"
    )
    parser.add_argument("--drain-max", type=int, default=60, help="longest wait for late events")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--subscriber-process", metavar="PLAN", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.subscriber_process:
        plan_file = json.loads(Path(arguments.subscriber_process).read_text())
        asyncio.run(subscribe_all(plan_file))
    else:
        asyncio.run(main(arguments))
