"""Fan-out benchmark: many websocket subscribers, 2 workers sharing events through Redis.

1,000 subscribers each follow their own customer's wallet, 10 partner-wide
subscribers see every movement; a stream of top-ups (200/s by default) runs
over those wallets through HTTP. Prints the delivery latency (entry creation
to receipt) p50/p99 for both kinds of subscriber, what was lost, and the
servers' resident memory per connection. Run by hand:
``python bench/fanout.py [--subscribers 1000] [--rate 200] [--seconds 10]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.db import close_db, init_db, run_migrations  # noqa: E402
from backend.domain import api_keys, tenants  # noqa: E402
from backend.domain.access import SYSTEM, Principal  # noqa: E402
from backend.domain.models import Role  # noqa: E402
from bench.ledger import PG_ADMIN_URL, percentile, settings_for  # noqa: E402
from tests.servers import running_server  # noqa: E402

SUBSCRIPTION = """subscription($w: ID) { balanceChanged(walletId: $w) { entry { createdAt } } }"""
TOP_UP = """mutation($w: ID!) { topUpWallet(walletId: $w, amount: "1") { userErrors { code } } }"""


def server_memory_mib(port: str) -> float:
    """Resident memory of the ``daybook serve`` on ``port`` and its worker processes."""
    parents: dict[int, int] = {}
    serving = None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            parents[int(proc.name)] = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if "serve" in cmdline and f"--port {port}" in cmdline:
            serving = int(proc.name)
    if serving is None:
        return 0.0
    family = {serving} | {pid for pid, parent in parents.items() if parent == serving}
    total = 0
    for pid in family:
        try:
            for row in Path(f"/proc/{pid}/status").read_text().splitlines():
                if row.startswith("VmRSS:"):
                    total += int(row.split()[1])
        except OSError:
            continue
    return total / 1024


async def subscriber(
    base: str, key: str, wallet_id: str | None, latencies: list[float], ready
) -> None:
    async with websockets.connect(
        base.replace("http", "ws") + "/graphql",
        subprotocols=["graphql-transport-ws"],
        max_queue=None,
    ) as socket:
        await socket.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}})
        )
        await socket.recv()
        variables = {"w": wallet_id} if wallet_id else {}
        await socket.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": SUBSCRIPTION, "variables": variables},
                }
            )
        )
        ready.release()
        async for raw in socket:
            message = json.loads(raw)
            if message.get("type") == "next":
                created = datetime.fromisoformat(
                    message["payload"]["data"]["balanceChanged"]["entry"]["createdAt"]
                )
                latencies.append(time.time() - created.timestamp())


async def main(count: int, rate: int, seconds: int, redis_url: str) -> None:
    name = f"daybook_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        await run_migrations(settings_for(url))
        await init_db(settings_for(url))
        made = await tenants.create_partner(
            SYSTEM, name="Fanout", currency_code="USD", day_price="1"
        )
        partner = Principal(role=Role.PARTNER, partner_id=made.partner.id)
        customers = []
        for n in range(count):
            customer = await tenants.create_customer(
                partner, partner_id=str(made.partner.id), name=f"C{n}"
            )
            customers.append((customer.key.secret, str(customer.wallet.id)))
        partner_key = (await api_keys.issue(Role.PARTNER, partner_id=made.partner.id)).secret
        await close_db()
        env = {"DAYBOOK_REDIS_URL": redis_url, "DAYBOOK_REDIS_CHANNEL": f"bench-{uuid.uuid4().hex}"}
        with running_server(url, workers=2, env=env) as base:
            port = base.rsplit(":", 1)[1]
            idle_memory = server_memory_mib(port)
            own: list[float] = []
            wide: list[float] = []
            ready = asyncio.Semaphore(0)
            tasks = [
                asyncio.create_task(subscriber(base, key, wallet, own, ready))
                for key, wallet in customers
            ]
            tasks += [
                asyncio.create_task(subscriber(base, partner_key, None, wide, ready))
                for _ in range(10)
            ]
            for _ in tasks:
                await asyncio.wait_for(ready.acquire(), 60)
            await asyncio.sleep(1)
            connected_memory = server_memory_mib(port)
            async with httpx.AsyncClient(
                base_url=base, headers={"Authorization": f"Bearer {partner_key}"}
            ) as http:
                sent = 0
                posts = []
                started = time.perf_counter()
                while time.perf_counter() - started < seconds:
                    _, wallet = customers[sent % len(customers)]
                    posts.append(
                        asyncio.create_task(
                            http.post(
                                "/graphql", json={"query": TOP_UP, "variables": {"w": wallet}}
                            )
                        )
                    )
                    sent += 1
                    await asyncio.sleep(max(0.0, started + sent / rate - time.perf_counter()))
                await asyncio.gather(*posts)
                await asyncio.sleep(3)  # let the last events arrive
            for task in tasks:
                task.cancel()
        print(f"== fan-out: {count} own-wallet + 10 partner-wide subscribers, 2 workers, Redis ==")
        print(f"  movements sent {sent} at {rate}/s for {seconds}s")
        for label, values, expected in (
            ("own wallet", own, sent),
            ("partner-wide", wide, sent * 10),
        ):
            if values:
                print(
                    f"  {label:<13} received {len(values):>6}/{expected:<6}  p50 {percentile(values, 50) * 1000:7.1f} ms"
                    f"   p99 {percentile(values, 99) * 1000:7.1f} ms"
                )
        per_connection = (connected_memory - idle_memory) * 1024 / len(tasks)
        print(
            f"  servers' memory: {idle_memory:.0f} MiB idle, {connected_memory:.0f} MiB connected "
            f"({per_connection:.0f} KiB per connection)"
        )
    finally:
        await close_db()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    asyncio.run(main(args.subscribers, args.rate, args.seconds, args.redis))
