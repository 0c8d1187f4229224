"""Webhook benchmark: signed Meta-shaped requests with 10 delivered statuses each, into PostgreSQL.

Prints statuses charged per second with p50/p99 request latency, for 1 and 4
``daybook serve`` workers, spread over many channels and on one hot wallet;
then checks that every status was charged exactly once and the ledger
invariants hold. Run by hand: ``python bench/webhook.py [--requests 1000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.db import close_db, init_db, run_migrations  # noqa: E402
from backend.domain import channels, partner_days, rates, tenants, wallets  # noqa: E402
from backend.domain.access import SYSTEM, Principal  # noqa: E402
from backend.domain.models import Conversation, Role  # noqa: E402
from backend.domain.verify import find_breaches  # noqa: E402
from bench.ledger import PG_ADMIN_URL, percentile, settings_for  # noqa: E402
from tests.servers import running_server  # noqa: E402
from tests.webhooks import meta  # noqa: E402

STATUSES_PER_REQUEST = 10
CONCURRENCY = 32


async def prepare(url: str, channel_count: int) -> tuple[int, list[str]]:
    """A partner with a signed webhook and ``channel_count`` live channels; their phone_number_ids."""
    await run_migrations(settings_for(url))
    await init_db(settings_for(url))
    await rates.load_shipped_rate_card()
    made = await tenants.create_partner(SYSTEM, name="Hooks", currency_code="USD", day_price="1")
    partner_id = made.partner.id
    await tenants.configure_whatsapp_webhook(
        SYSTEM, partner_id=str(partner_id), app_secret=meta.APP_SECRET, verify_token="v"
    )
    await partner_days.purchase_days(
        SYSTEM, partner_id=str(partner_id), days=30 * channel_count, comment="stock"
    )
    as_partner = Principal(role=Role.PARTNER, partner_id=partner_id)
    ids = []
    for n in range(channel_count):
        customer = await tenants.create_customer(
            as_partner, partner_id=str(partner_id), name=f"Customer {n}"
        )
        await wallets.top_up(as_partner, wallet_id=str(customer.wallet.id), amount="100000")
        pnid = f"{100000 + n}"
        line = await channels.create_channel(
            as_partner,
            customer_id=str(customer.customer.id),
            name=f"Line {n}",
            phone_number=f"+4915110{n:06d}",
            phone_number_id=pnid,
        )
        await channels.extend_channel(
            as_partner, channel_id=str(line.channel.id), days=30, comment="bench"
        )
        ids.append(pnid)
    await close_db()
    return partner_id, ids


def bodies(run: str, count: int, phone_number_ids: list[str]) -> list[bytes]:
    made = []
    for n in range(count):
        statuses = [
            meta.status(
                f"wamid.{run}.{n}.{k}",
                "delivered",
                f"491511{(n * 10 + k) % 10**7:07d}",
                timestamp=int(time.time()),  # under the shipped card, in force since its date
            )
            for k in range(STATUSES_PER_REQUEST)
        ]
        pnid = phone_number_ids[n % len(phone_number_ids)]
        made.append(meta.encode(meta.body(*statuses, phone_number_id=pnid)))
    return made


async def drive(base: str, partner_id: int, payloads: list[bytes]) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue = iter(payloads)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def worker() -> None:
            for raw in queue:
                started = time.perf_counter()
                response = await client.post(
                    f"/webhooks/whatsapp/{partner_id}",
                    content=raw,
                    headers={"X-Hub-Signature-256": meta.sign(raw)},
                )
                assert response.status_code == 200, response.text
                assert response.json()["status"] == "PROCESSED", response.text
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    return len(payloads) * STATUSES_PER_REQUEST / elapsed, latencies


async def main(requests: int, channel_count: int) -> None:
    name = f"daybook_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    print(f"== postgres: {requests} requests x {STATUSES_PER_REQUEST} delivered statuses ==")
    sent = 0
    try:
        partner_id, ids = await prepare(url, channel_count)
        for workers in (1, 4):
            with running_server(url, workers=workers) as base:
                for layout, targets in (("spread", ids), ("hot", ids[:1])):
                    payloads = bodies(f"{workers}{layout}", requests, targets)
                    rate, latencies = await drive(base, partner_id, payloads)
                    sent += len(payloads) * STATUSES_PER_REQUEST
                    print(
                        f"  {workers} worker(s), {layout:<6} ({len(targets):>3} wallets)"
                        f"  {rate:>8,.0f} statuses/s   p50 {percentile(latencies, 50) * 1000:6.1f} ms"
                        f"   p99 {percentile(latencies, 99) * 1000:7.1f} ms per request"
                    )
        await init_db(settings_for(url))
        charged = await Conversation.all().count()
        breaches = await find_breaches()
        print(f"  statuses sent {sent}, conversations charged {charged} (must be equal)")
        print(f"  ledger invariants after the run: {'hold' if not breaches else breaches}")
    finally:
        await close_db()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.channels))
