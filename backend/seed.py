"""Demo data for ``make run``: a partner with a month of history.

Everything goes through the domain functions, as an operator would do it,
so the demo data obeys every ledger invariant. The history is written with
the clock set back to the start of last month (time is injectable, rule 8):
customers join, channels are extended, conversations are charged day by day,
and then, at the real time, last month is invoiced, so the dashboard has
balances, a ledger, billing history, alerts and invoices to show.
"""

from __future__ import annotations

from datetime import timedelta

from backend.domain import (
    api_keys,
    channels,
    charging,
    invoices,
    invoicing,
    partner_days,
    plans,
    tenants,
    wallets,
)
from backend.domain.access import SYSTEM, Principal
from backend.domain.clock import FrozenClock, clock
from backend.domain.errors import DomainError
from backend.domain.models import ConversationCategory, Customer, Partner, Role
from backend.domain.money import parse_decimal
from backend.domain.periods import Period

DEMO_PARTNER = "Demo Reseller"
CUSTOMERS = (
    # name, opening top-up, phone numbers of its channels
    ("Acme Bakery", "120.00", ("+14155550101", "+14155550105")),
    ("Bluebird Travel", "45.50", ("+14155550102",)),
    ("Cedar Clinic", "10.50", ("+442071838750",)),
    ("Delta Motors", "300.00", ("+4915112345678", "+4915112345679", "+4915112345680")),
    ("Evergreen Foods", "80.00", ("+33612345678",)),
    ("Fjord Fitness", "25.00", ("+4791234567",)),
)
# Who the customers write to: markets with their own rates and the rest.
RECIPIENTS = ("+4915123456789", "+447700900123", "+919876543210", "+5511987654321", "+14155552671")
CATEGORIES = (
    ConversationCategory.MARKETING,
    ConversationCategory.UTILITY,
    ConversationCategory.AUTHENTICATION,
    ConversationCategory.SERVICE,
)


async def _history(partner: Partner) -> None:
    as_partner = Principal(role=Role.PARTNER, partner_id=partner.id)
    last_month = Period.containing(clock.now()).previous()
    past = FrozenClock(last_month.start + timedelta(days=2, hours=9))
    clock.use(past)
    try:
        await partner_days.purchase_days(
            SYSTEM, partner_id=partner.id, days=2000, comment="Demo: opening purchase"
        )
        plan = await plans.create_plan(
            SYSTEM,
            name="Starter",
            monthly_fee_micros=parse_decimal("29.00"),
            currency_code="USD",
            tax_rate_percent_micros=parse_decimal("20"),
        )
        lines = []
        for name, money, numbers in CUSTOMERS:
            customer = await tenants.create_customer(
                as_partner, partner_id=partner.id, name=name, plan_id=plan.id
            )
            wallet_id = customer.wallet.id
            await wallets.top_up(
                as_partner,
                wallet_id=wallet_id,
                amount_micros=parse_decimal(money),
                comment="Card payment",
            )
            await wallets.set_low_balance_threshold(
                as_partner, wallet_id=wallet_id, threshold_micros=parse_decimal("10.00")
            )
            for n, number in enumerate(numbers, start=1):
                made = await channels.create_channel(
                    as_partner,
                    customer_id=customer.customer.id,
                    name=f"{name} line {n}",
                    phone_number=number,
                )
                await channels.extend_channel(
                    as_partner, channel_id=made.channel.id, days=60, comment="First two months"
                )
                lines.append(made.channel.id)
        # A month of traffic: every line, every few days, a handful of conversations.
        for day in range(0, last_month.days - 3, 3):
            past.set(last_month.start + timedelta(days=3 + day, hours=10))
            for index, channel_id in enumerate(lines):
                for k in range(1 + (index + day) % 4):
                    try:
                        await charging.record_conversation(
                            as_partner,
                            channel_id=channel_id,
                            external_id=f"demo-{channel_id}-{day}-{k}",
                            category=CATEGORIES[(index + k + day) % len(CATEGORIES)],
                            recipient=RECIPIENTS[(index * 3 + k + day) % len(RECIPIENTS)],
                        )
                    except DomainError:
                        pass  # no rate card in force that month: the demo goes on without it
    finally:
        clock.reset()


async def seed() -> str:
    partner = await Partner.get_or_none(name=DEMO_PARTNER)
    if partner is None:
        made = await tenants.create_partner(
            SYSTEM,
            name=DEMO_PARTNER,
            currency_code="USD",
            day_price_micros=parse_decimal("0.50"),
            trial_eligible=True,
        )
        partner = made.partner
        await _history(partner)
        as_partner = Principal(role=Role.PARTNER, partner_id=partner.id)
        # Last month, invoiced now: one paid from the wallet, one open, the rest drafts.
        await invoicing.generate_for_period(
            Period.containing(clock.now()).previous(), partner_id=partner.id
        )
        drafts = await invoices.visible_to(as_partner).order_by("id")
        for position, draft in enumerate(drafts[:2]):
            issued = await invoices.finalize(as_partner, invoice_id=draft.id)
            if position == 0:
                await invoices.pay_from_wallet(as_partner, invoice_id=issued.id)
        first_customer = drafts[0].customer_id if drafts else None
        if first_customer is not None:
            await channels.create_channel(
                as_partner,
                customer_id=first_customer,
                name="Trial line",
                phone_number="+14155550199",
                trial=True,
            )
    # Fresh keys each time (keys are shown once): one per role, to try each view.
    # The partner key comes last, alone on its line, for `make run` to pick up.
    admin_key = await api_keys.issue(Role.ADMIN)
    customer = await Customer.filter(partner_id=partner.id).order_by("id").first()
    lines = [f"Admin key: {admin_key.secret}"]
    if customer is not None:
        customer_key = await api_keys.issue(
            Role.CUSTOMER, partner_id=partner.id, customer_id=customer.id
        )
        lines.append(f"Customer key ({customer.name}): {customer_key.secret}")
    key = await api_keys.issue(Role.PARTNER, partner_id=partner.id)
    lines.append(f"Demo partner {partner.name!r} (id {partner.id}). Partner key:\n{key.secret}")
    return "\n".join(lines)
