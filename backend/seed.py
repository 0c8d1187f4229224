"""Demo data for ``make run``: a partner, customers with channels, days and money.

Everything goes through the domain functions, as an operator would do it,
so the demo data obeys every ledger invariant.
"""

from __future__ import annotations

from backend.domain import api_keys, channels, partner_days, plans, tenants, wallets
from backend.domain.access import SYSTEM, Principal
from backend.domain.models import Partner, Role

DEMO_PARTNER = "Demo Reseller"


async def seed() -> str:
    partner = await Partner.get_or_none(name=DEMO_PARTNER)
    if partner is None:
        made = await tenants.create_partner(
            SYSTEM, name=DEMO_PARTNER, currency_code="USD", day_price="0.50", trial_eligible=True
        )
        partner = made.partner
        await partner_days.purchase_days(
            SYSTEM, partner_id=str(partner.id), days=500, comment="Demo: opening purchase"
        )
        as_partner = Principal(role=Role.PARTNER, partner_id=partner.id)
        plan = await plans.create_plan(
            SYSTEM, name="Starter", monthly_fee="29.00", currency_code="USD", tax_rate_percent="20"
        )
        numbers = iter(["+14155550101", "+14155550102", "+442071838750", "+4915112345678"])
        for name, money in (
            ("Acme Bakery", "120.00"),
            ("Bluebird Travel", "45.50"),
            ("Cedar Clinic", "8.00"),
        ):
            customer = await tenants.create_customer(
                as_partner, partner_id=str(partner.id), name=name, plan_id=str(plan.id)
            )
            line = await channels.create_channel(
                as_partner,
                customer_id=str(customer.customer.id),
                name=f"{name} WhatsApp",
                phone_number=next(numbers),
            )
            await channels.extend_channel(
                as_partner, channel_id=str(line.channel.id), days=30, comment="Demo: first month"
            )
            await wallets.top_up(
                as_partner, wallet_id=str(customer.wallet.id), amount=money, comment="Demo top-up"
            )
            await wallets.set_low_balance_threshold(
                as_partner, wallet_id=str(customer.wallet.id), threshold="10.00"
            )
        await channels.create_channel(
            as_partner,
            customer_id=str(customer.customer.id),
            name="Trial line",
            phone_number=next(numbers),
            trial=True,
        )
    key = await api_keys.issue(Role.PARTNER, partner_id=partner.id)
    return f"Demo partner {partner.name!r} (id {partner.id}). Partner key:\n{key.secret}"
