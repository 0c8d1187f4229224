"""A customer's suspension under concurrency: it always matches "has an overdue OPEN invoice".

Found in review: on PostgreSQL a settlement's check ran on a snapshot taken
before it waited for the customer row, so two settlements at once could both
keep the suspension, and a settlement racing the overdue job could lift it.
"""

from __future__ import annotations

import asyncio

from backend.domain import invoices
from backend.domain.models import Customer, Invoice
from tests.invoices.conftest import FINALIZE, GENERATE, MARK_PAID, VOID, Billing


async def issue_month(billing: Billing, period: str) -> list[dict]:
    drafts = (await billing.partner.mutate(GENERATE, {"period": period}))["invoices"]
    return [(await billing.partner.mutate(FINALIZE, {"id": d["id"]}))["invoice"] for d in drafts]


async def mismatches() -> list[tuple[int, int, bool]]:
    wrong = []
    for customer in await Customer.all():
        overdue = await Invoice.filter(
            customer_id=customer.id, status="OPEN", overdue_at__isnull=False
        ).count()
        if bool(overdue) != customer.suspended:
            wrong.append((customer.id, overdue, customer.suspended))
    return wrong


async def test_settling_two_overdue_invoices_at_once_lifts_the_suspension(
    billing, assert_ledger_invariants
):
    billing.at(2026, 3, 20, 10, 0)
    for n in range(6):
        await billing.customer(f"Customer {n}")
    billing.at(2026, 5, 1, 9, 0)
    await issue_month(billing, "2026-04")
    billing.at(2026, 6, 1, 9, 0)
    await issue_month(billing, "2026-05")
    billing.at(2026, 7, 1, 9, 0)
    assert await invoices.mark_overdue() == 12
    assert await Customer.filter(suspended=True).count() == 6

    settle = []
    for customer in await Customer.all():
        first, second = await Invoice.filter(customer_id=customer.id).order_by("id")
        settle.append(billing.partner.mutate(MARK_PAID, {"id": str(first.id), "comment": "bank"}))
        settle.append(billing.partner.mutate(VOID, {"id": str(second.id), "comment": "goodwill"}))
    await asyncio.gather(*settle)
    assert await Invoice.filter(status="OPEN").count() == 0
    assert await mismatches() == []
    await assert_ledger_invariants()


async def test_settling_one_invoice_while_the_job_flags_another_keeps_the_suspension(
    billing, assert_ledger_invariants
):
    billing.at(2026, 3, 20, 10, 0)
    for n in range(10):
        await billing.customer(f"Customer {n}")
    billing.at(2026, 5, 1, 9, 0)
    april = await issue_month(billing, "2026-04")
    billing.at(2026, 5, 20, 9, 0)
    assert await invoices.mark_overdue() == 10
    billing.at(2026, 6, 1, 9, 0)
    await issue_month(billing, "2026-05")
    billing.at(2026, 6, 17, 9, 0)  # May's are past due, not flagged yet

    async def settle_april() -> None:
        await asyncio.gather(
            *(billing.partner.mutate(MARK_PAID, {"id": i["id"], "comment": "bank"}) for i in april)
        )

    await asyncio.gather(settle_april(), invoices.mark_overdue())
    await invoices.mark_overdue()
    assert await Invoice.filter(period="2026-05", overdue_at__isnull=True).count() == 0
    assert await mismatches() == []
    assert await Customer.filter(suspended=True).count() == 10  # May's invoices still stand
    await assert_ledger_invariants()
