"""Subscription plans: platform plans (made by ADMIN) and a partner's own plans."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from tortoise.expressions import Q

from backend.db import db_datetime, dialect_sql
from backend.domain import access, validation
from backend.domain.access import Principal
from backend.domain.clock import clock
from backend.domain.errors import CurrencyMismatch, NotFound
from backend.domain.models import Customer, Partner, Plan, PlanAssignment, Role
from backend.domain.money import check_micros, check_percent
from backend.domain.periods import Period
from backend.domain.unit_of_work import transaction

MAX_MONTHLY_FEE_MICROS = 10_000_000 * 1_000_000
MAX_TAX_PERCENT = Decimal(100)


async def create_plan(
    principal: Principal,
    *,
    name: str,
    monthly_fee_micros: int,
    currency_code: str,
    tax_rate_percent_micros: int,
) -> Plan:
    access.require_role(principal, Role.ADMIN, Role.PARTNER)
    clean_name = validation.name(name)
    fee = check_micros(
        monthly_fee_micros, field="monthly_fee", allow_zero=True, max_micros=MAX_MONTHLY_FEE_MICROS
    )
    currency = validation.currency_code(currency_code)
    tax = check_percent(tax_rate_percent_micros, field="tax_rate_percent", maximum=MAX_TAX_PERCENT)
    partner_id = None
    if principal.role == Role.PARTNER:
        partner = await Partner.get(id=principal.partner_id)
        if partner.currency_code != currency:
            raise CurrencyMismatch(
                f"Your customers are billed in {partner.currency_code}.", field="currency_code"
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


async def plan_for_partner(partner: Partner, plan_id: int, field: str = "plan_id") -> Plan:
    """A plan the partner may put its customers on: a platform plan or its own."""
    plan = await Plan.get_or_none(id=plan_id)
    if plan is None or plan.partner_id not in (None, partner.id):
        raise NotFound("No such plan.", field=field)
    if plan.currency_code != partner.currency_code:
        raise CurrencyMismatch(
            f"The plan is billed in {plan.currency_code}; the partner bills in "
            f"{partner.currency_code}.",
            field=field,
        )
    return plan


async def set_customer_plan(
    principal: Principal, *, customer_id: int, plan_id: int | None
) -> Customer:
    """Put the customer on another plan (or none) from the next period on.

    The month under way is billed on the plan it began with; setting the plan
    again before the month ends replaces the pending change.
    """
    access.require_role(principal, Role.ADMIN, Role.PARTNER)
    customer = await access.get_customer(principal, customer_id)
    partner = await Partner.get(id=customer.partner_id)
    plan = await plan_for_partner(partner, plan_id) if plan_id is not None else None
    now = clock.now()
    starts = Period.containing(now).next().start
    async with transaction() as conn:
        await conn.execute_query(
            dialect_sql(
                conn,
                "INSERT INTO plan_assignments (customer_id, plan_id, effective_from, created_at)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (customer_id, effective_from)"
                " DO UPDATE SET plan_id = excluded.plan_id, created_at = excluded.created_at",
            ),
            [
                customer.id,
                plan.id if plan else None,
                db_datetime(conn, starts),
                db_datetime(conn, now),
            ],
        )
    return customer


def current_and_pending(
    assignments: list[PlanAssignment], moment: datetime
) -> tuple[PlanAssignment | None, PlanAssignment | None]:
    """Of a customer's assignments in ``effective_from`` order: the one in force at
    ``moment`` (the latest begun by then) and the next one to take effect after it."""
    current = pending = None
    for assignment in assignments:
        if assignment.effective_from <= moment:
            current = assignment
        elif pending is None:
            pending = assignment
    return current, pending
