"""Subscription plans: platform plans (made by ADMIN) and a partner's own plans."""

from __future__ import annotations

from decimal import Decimal

from tortoise.expressions import Q

from backend.domain import access, validation
from backend.domain.access import Principal
from backend.domain.clock import clock
from backend.domain.errors import CurrencyMismatch
from backend.domain.models import Customer, Partner, Plan, Role
from backend.domain.money import parse_amount, parse_percent

MAX_MONTHLY_FEE_MICROS = 10_000_000 * 1_000_000


async def create_plan(
    principal: Principal, *, name: str, monthly_fee: str, currency_code: str, tax_rate_percent: str
) -> Plan:
    access.require_role(principal, Role.ADMIN, Role.PARTNER)
    clean_name = validation.name(name)
    fee = parse_amount(
        monthly_fee, field="monthlyFee", allow_zero=True, max_micros=MAX_MONTHLY_FEE_MICROS
    )
    currency = validation.currency_code(currency_code)
    tax = parse_percent(tax_rate_percent, field="taxRatePercent", maximum=Decimal(100))
    partner_id = None
    if principal.role == Role.PARTNER:
        partner = await Partner.get(id=principal.partner_id)
        if partner.currency_code != currency:
            raise CurrencyMismatch(
                f"Your customers are billed in {partner.currency_code}.", field="currencyCode"
            )
        partner_id = partner.id
    return await Plan.create(
        partner_id=partner_id,
        name=clean_name,
        monthly_fee_micros=fee,
        currency_code=currency,
        tax_rate_percent_micros=tax,
        created_at=clock.now(),
    )


async def visible_plans(principal: Principal) -> list[Plan]:
    """ADMIN: every plan. PARTNER: platform plans and its own. CUSTOMER: its partner's choice."""
    query = Plan.all()
    if principal.role == Role.PARTNER:
        query = Plan.filter(Q(partner_id=None) | Q(partner_id=principal.partner_id))
    elif principal.role == Role.CUSTOMER:
        customer = await Customer.get(id=principal.customer_id)
        query = Plan.filter(Q(partner_id=None) | Q(partner_id=customer.partner_id))
    return await query.order_by("id")
