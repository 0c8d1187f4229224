"""Invoice generation benchmark: one month for 10,000 customers and 1,000,000 conversations.

On a fresh PostgreSQL database it seeds (server-side, with generate_series)
partners, customers on a plan, their wallets and channels, the month's
conversations spread over categories, markets and prices, and some
integration charges; then it times the jobs loop's monthly generation and
prints the time, the invoices and lines written, and the peak memory of this
process (resident set size), and the CPU per invoice of this process and of
its PostgreSQL backends. Run by hand:
``python bench/invoices.py [--customers 10000] [--conversations 1000000] [--partners 10]``.
Target: under 60 s and under 500 MiB.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.db import close_db, connection, init_db, run_migrations  # noqa: E402
from backend.domain import invoicing, reactions  # noqa: E402
from backend.domain.clock import FrozenClock, clock  # noqa: E402
from backend.domain.periods import Period  # noqa: E402
from backend.domain.verify import find_breaches  # noqa: E402
from backend.settings import Settings  # noqa: E402
from bench.common import PG_ADMIN_URL, PostgresCpu  # noqa: E402

PERIOD = Period(2026, 10)
SEED = """
INSERT INTO partners (name, currency_code, day_price_micros, day_balance, trial_eligible,
                      markup_percent_micros, created_at)
SELECT 'Partner ' || n, 'USD', 1000000, 0, FALSE, 10000000, '2026-01-01T00:00:00Z'
FROM generate_series(1, $1) AS n;

INSERT INTO plans (partner_id, name, monthly_fee_micros, currency_code, tax_rate_percent_micros,
                   created_at)
VALUES (NULL, 'Growth', 30000000, 'USD', 20000000, '2026-01-01T00:00:00Z');

-- Customers: most since before the month, one in ten joining on the 11th (pro rata).
INSERT INTO customers (partner_id, name, plan_id, suspended, created_at)
SELECT 1 + (n % $1), 'Customer ' || n, 1, FALSE,
       CASE WHEN n % 10 = 0 THEN TIMESTAMPTZ '2026-10-11T00:00:00Z'
            ELSE TIMESTAMPTZ '2026-01-01T00:00:00Z' END
FROM generate_series(1, $2) AS n;

INSERT INTO plan_assignments (customer_id, plan_id, effective_from, created_at)
SELECT id, plan_id, created_at, created_at FROM customers;

INSERT INTO wallets (customer_id, currency_code, balance_micros, held_micros, credit_limit_micros,
                     created_at)
SELECT id, 'USD', 0, 0, 0, created_at FROM customers;

INSERT INTO channels (name, phone_number, status, active_until, messaging_tier, created_at,
                      customer_id, partner_id)
SELECT 'Line ' || id, '+4915' || lpad(id::text, 9, '0'), 'ACTIVE', '2027-01-01T00:00:00Z',
       'TIER_1K', created_at, id, partner_id
FROM customers;

-- The month's conversations: each customer's spread over 4 categories x 8 markets
-- (32 statement lines), prices by both.
INSERT INTO conversations (customer_id, partner_id, wallet_id, external_id, category, origin,
                           pricing_model, recipient, market, billable, price_micros, opened_at,
                           created_at, channel_id)
SELECT c.id, c.partner_id, w.id, 'conv-' || g, cat.name, 'BUSINESS_INITIATED', 'PMP',
       '+49151' || lpad(g::text, 8, '0'), mk.name, TRUE, cat.base + mk.extra,
       ts, ts, ch.id
FROM generate_series(1, $3) AS g
JOIN customers c ON c.id = 1 + (g % $2)
JOIN wallets w ON w.customer_id = c.id
JOIN channels ch ON ch.customer_id = c.id
JOIN (VALUES (0, 'MARKETING', 110000), (1, 'UTILITY', 55000), (2, 'AUTHENTICATION', 33000),
             (3, 'SERVICE', 0)) AS cat(k, name, base) ON cat.k = (g / $2) % 4
JOIN (VALUES (0, 'DE', 0), (1, 'FR', 1000), (2, 'IN', 2000), (3, 'BR', 3000),
             (4, 'Rest of Western Europe', 4000), (5, 'NG', 5000), (6, 'US', 6000),
             (7, '*', 7000)) AS mk(k, name, extra) ON mk.k = (g / ($2 * 4)) % 8
CROSS JOIN LATERAL (SELECT GREATEST(c.created_at, TIMESTAMPTZ '2026-10-01T00:00:00Z')
                    + ((g % 1000) * INTERVAL '40 minutes') AS ts) AS t;
"""
# Integration charges go through the ledger, so balances stay equal to their entries.
INTEGRATION = """
WITH charges AS (
    SELECT w.id AS wallet_id, -(250000 * (1 + g % 3)) AS amount,
           CASE WHEN g % 2 = 0 THEN 'CRM sync' ELSE 'SMS fallback' END AS comment,
           TIMESTAMPTZ '2026-10-15T00:00:00Z' + g * INTERVAL '1 second' AS at,
           ROW_NUMBER() OVER (PARTITION BY w.id ORDER BY g) AS rn
    FROM generate_series(1, $1) AS g JOIN wallets w ON w.id = 1 + (g % $2)
), running AS (
    SELECT *, SUM(amount) OVER (PARTITION BY wallet_id ORDER BY rn) AS after FROM charges
)
INSERT INTO ledger_entries (wallet_id, kind, amount_micros, balance_after_micros, comment,
                            created_at)
SELECT wallet_id, 'INTEGRATION_CHARGE', amount, after, comment, at FROM running ORDER BY wallet_id, rn;
UPDATE wallets w SET balance_micros = s.total
FROM (SELECT wallet_id, SUM(amount_micros) AS total FROM ledger_entries GROUP BY wallet_id) s
WHERE s.wallet_id = w.id;
"""


def settings_for(url: str) -> Settings:
    return Settings(database_url=url, redis_url=None, env="bench", db_pool_size=20)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def main(customers: int, conversations: int, partners: int) -> None:
    name = f"daybook_bench_invoices_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        await run_migrations(settings_for(url))
        seeder = await asyncpg.connect(url)
        started = time.perf_counter()
        integration = customers // 2
        # Sizes are integers of our own: written into the SQL, so no statement has
        # a parameter it does not use (PostgreSQL could not type it).
        await seeder.execute(
            SEED.replace("$1", str(int(partners)))
            .replace("$2", str(int(customers)))
            .replace("$3", str(int(conversations)))
        )
        await seeder.execute(
            INTEGRATION.replace("$1", str(int(integration))).replace("$2", str(int(customers)))
        )
        # September was invoiced last month: the run below does October only.
        await seeder.execute(
            "INSERT INTO invoice_runs (period, completed_at) VALUES ('2026-09', '2026-10-01T01:00:00Z')"
        )
        await seeder.execute("ANALYZE")
        await seeder.close()
        print(
            f"seeded {partners} partners, {customers:,} customers, {conversations:,} "
            f"conversations, {integration:,} integration charges "
            f"in {time.perf_counter() - started:.1f} s"
        )

        await init_db(settings_for(url))
        reactions.install()
        clock.use(FrozenClock(datetime(2026, 11, 1, 1, 5, tzinfo=UTC)))  # after the grace hour
        rss_before = peak_rss_mib()
        pg = PostgresCpu(url)
        await pg.start()
        cpu_started = time.process_time()
        started = time.perf_counter()
        report = await invoicing.generate_previous_month()
        elapsed = time.perf_counter() - started
        cpu_us = (time.process_time() - cpu_started) * 1e6
        pg_us = await pg.stop()
        await pg.close()
        conn = connection()
        invoices = (await conn.execute_query_dict("SELECT COUNT(*) AS n FROM invoices"))[0]["n"]
        lines = (await conn.execute_query_dict("SELECT COUNT(*) AS n FROM invoice_lines"))[0]["n"]
        print(f"\n== generate {PERIOD} on PostgreSQL ==")
        print(f"  report                {report}")
        print(f"  invoices / lines      {invoices:,} / {lines:,}")
        print(f"  time                  {elapsed:.2f} s   ({invoices / elapsed:,.0f} invoices/s)")
        print(
            f"  peak RSS              {peak_rss_mib():.0f} MiB (before generation {rss_before:.0f} MiB)"
        )
        print(
            f"  CPU per invoice       {cpu_us / max(invoices, 1):,.0f} µs in this process (the "
            f"jobs runner), {'n/a' if pg_us is None else f'{pg_us / max(invoices, 1):,.0f} µs'} "
            "in PostgreSQL backends"
        )
        print("  targets               < 60 s, < 500 MiB")
        started = time.perf_counter()
        again = await invoicing.generate_for_period(PERIOD)
        print(f"  second run            {again} created in {time.perf_counter() - started:.2f} s")
        breaches = await find_breaches()
        print(f"  invariants            {'hold' if not breaches else breaches[:5]}")
        await close_db()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--partners", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.customers, args.conversations, args.partners))
