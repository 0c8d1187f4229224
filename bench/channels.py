"""Bulk extension benchmark: 10,000 channels extended by 5 days in calls of 500.

For SQLite and PostgreSQL it prints seconds per ``extendChannels`` call
(p50/p99/max) and channels per second, through GraphQL over HTTP against one
``daybook serve`` worker, with the server's CPU per channel (utime+stime of the
server process from /proc over the calls), then checks the ledger invariants. Run by hand:
``python bench/channels.py [--only postgres] [--channels 10000] [--batch 500]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.db import close_db, init_db, run_migrations  # noqa: E402
from backend.domain import partner_days, reactions, tenants  # noqa: E402
from backend.domain.access import SYSTEM, Principal  # noqa: E402
from backend.domain.clock import clock  # noqa: E402
from backend.domain.models import Channel, ChannelStatus, Role  # noqa: E402
from backend.domain.verify import find_breaches  # noqa: E402
from backend.settings import Settings  # noqa: E402
from bench.common import PG_ADMIN_URL, percentile, running_server  # noqa: E402

EXTEND_MANY = """mutation($items: [ExtendChannelItem!]!) {
  extendChannels(items: $items, comment: "Automatic 5-day extension") {
    channels { id } userErrors { code message } } }"""


def settings_for(url: str) -> Settings:
    return Settings(database_url=url, redis_url=None, env="bench", db_pool_size=20)


async def prepare(url: str, count: int) -> tuple[list[int], str]:
    await run_migrations(settings_for(url))
    await init_db(settings_for(url))
    reactions.install()
    made = await tenants.create_partner(
        SYSTEM, name="Bulk", currency_code="USD", day_price_micros=1_000_000
    )
    partner = Principal(role=Role.PARTNER, partner_id=made.partner.id)
    customer = await tenants.create_customer(partner, partner_id=made.partner.id, name="Fleet")
    await partner_days.purchase_days(
        SYSTEM, partner_id=made.partner.id, days=count * 5, comment="Bench stock"
    )
    # Setup only: PENDING channels inserted directly, as if created over months.
    now = clock.now()
    await Channel.bulk_create(
        [
            Channel(
                partner_id=made.partner.id,
                customer_id=customer.customer.id,
                name=f"Line {n}",
                phone_number=f"+4915{n:09d}",
                status=ChannelStatus.PENDING,
                created_at=now,
            )
            for n in range(count)
        ],
        batch_size=1000,
    )
    ids = (
        await Channel.filter(partner_id=made.partner.id).order_by("id").values_list("id", flat=True)
    )
    return list(ids), made.key.secret


async def run(kind: str, count: int, batch: int) -> None:
    if kind == "sqlite":
        url = f"sqlite://{tempfile.mkdtemp(prefix='daybook-bench-')}/bench.sqlite3"
        admin = None
    else:
        name = f"daybook_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(PG_ADMIN_URL)
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    print(f"\n== {kind}: {count} channels by 5 days, {batch} per call ==")
    try:
        ids, key = await prepare(url, count)
        await close_db()
        durations = []
        with running_server(url) as server:
            meter = server.cpu()
            meter.start()
            async with httpx.AsyncClient(
                base_url=server.base, headers={"Authorization": f"Bearer {key}"}, timeout=120
            ) as client:
                started = time.perf_counter()
                for offset in range(0, len(ids), batch):
                    items = [{"channelId": str(i), "days": 5} for i in ids[offset : offset + batch]]
                    call = time.perf_counter()
                    body = (
                        await client.post(
                            "/graphql", json={"query": EXTEND_MANY, "variables": {"items": items}}
                        )
                    ).json()
                    durations.append(time.perf_counter() - call)
                    assert body["data"]["extendChannels"]["userErrors"] == [], body
                total = time.perf_counter() - started
            server_us = meter.stop()
        print(
            f"  {len(durations)} calls: p50 {percentile(durations, 50):.3f} s   "
            f"p99 {percentile(durations, 99):.3f} s   max {max(durations):.3f} s per call"
        )
        print(f"  {len(ids) / total:,.0f} channels extended per second ({total:.1f} s in all)")
        print(
            f"  server CPU {server_us / len(ids):,.0f} µs per channel extended, "
            f"{server_us / len(durations) / 1000:,.0f} ms per call (one worker)"
        )
        await init_db(settings_for(url))
        breaches = await find_breaches()
        print(f"  ledger invariants after the run: {'hold' if not breaches else breaches}")
    finally:
        await close_db()
        if admin is not None:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--channels", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    for kind in ("sqlite", "postgres"):
        if args.only in (None, kind):
            asyncio.run(run(kind, args.channels, args.batch))


if __name__ == "__main__":
    main()
