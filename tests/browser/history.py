"""Make a partner whose customers signed up last month, so a month can be invoiced today.

Run as ``python -m tests.browser.history DATABASE_URL`` before the API server
starts: invoices cover ended months for customers that existed in them, and
the API (rightly) offers no way to backdate a customer. This goes through the
domain functions with the clock set to last month, as the seed does, and
prints the ids and keys as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta

from backend.db import close_db, init_db
from backend.domain import partner_days, plans, reactions, tenants
from backend.domain.access import SYSTEM, Principal
from backend.domain.clock import FrozenClock, clock
from backend.domain.models import Role
from backend.domain.money import parse_decimal
from backend.settings import Settings

CUSTOMERS = ["Northwind Café", "Orchid Dental", "Pine Logistics", "Quay Outfitters"]


async def main(database_url: str) -> dict:
    now = datetime.now(UTC)
    last_month = (now.replace(day=1) - timedelta(days=1)).replace(day=2, hour=9, minute=0)
    clock.use(FrozenClock(last_month))
    await init_db(Settings(database_url=database_url, redis_url=None, env="test", db_pool_size=5))
    reactions.install()
    try:
        made = await tenants.create_partner(
            SYSTEM,
            name="Harbour Telecom",
            currency_code="USD",
            day_price_micros=parse_decimal("0.40"),
            trial_eligible=True,
        )
        partner = made.partner
        await partner_days.purchase_days(
            SYSTEM, partner_id=partner.id, days=400, comment="Opening purchase, order 1001"
        )
        plan = await plans.create_plan(
            SYSTEM,
            name="Growth",
            monthly_fee_micros=parse_decimal("49.00"),
            currency_code="USD",
            tax_rate_percent_micros=parse_decimal("20"),
        )
        as_partner = Principal(role=Role.PARTNER, partner_id=partner.id)
        customers = []
        for name in CUSTOMERS:
            customer = await tenants.create_customer(
                as_partner, partner_id=partner.id, name=name, plan_id=plan.id
            )
            customers.append(
                {
                    "id": str(customer.customer.id),
                    "wallet": str(customer.wallet.id),
                    "name": name,
                    "key": customer.key.secret,
                }
            )
        return {"partner": str(partner.id), "key": made.key.secret, "customers": customers}
    finally:
        clock.reset()
        await close_db()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1]))))
