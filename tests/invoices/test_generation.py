"""Generating a month's invoices, as a worked billing scenario (SQLite and PostgreSQL).

March 2026 at Acme Reseller (10% markup on the test rate card, plan "Growth"
at 30.00 a month with 20% tax):
- Bea joins on 11 March on Growth: 21 of 31 days of the fee, pro rata; she
  sends conversations in three markets and two categories, and her
  partner's systems bill two kinds of integration charge;
- Al has been there since 1 March with no plan, sends one service
  conversation, and moves to Growth, which starts in April;
- Cy joins on 1 April: nothing to bill for March.
"""

from __future__ import annotations

import asyncio

from backend.domain.models import Invoice, InvoiceLine
from tests.factories import CHARGE, make_tenant
from tests.invoices.conftest import GENERATE, Billing
from tests.webhooks.meta import AMERICAN, AUSTRIAN, GERMAN

SET_PLAN = """mutation($c: ID!, $p: ID) { setCustomerPlan(customerId: $c, planId: $p) {
  customer { id plan { name } nextPlan { name } nextPlanFrom } userErrors { field code message } } }"""


def lines_of(invoice: dict) -> list[tuple]:
    return [
        (
            line["description"],
            line["quantity"],
            line["unitPrice"]["amount"],
            line["amount"]["amount"],
            line["prepaid"],
        )
        for line in invoice["lines"]
    ]


async def march(billing: Billing) -> dict:
    al = await billing.customer("Al", plan=False)
    billing.at(2026, 3, 11, 0, 0)
    bea = await billing.customer("Bea")
    billing.at(2026, 3, 15, 9, 30)
    conversations = [
        ("m1", "MARKETING", GERMAN),
        ("m2", "MARKETING", GERMAN),
        ("m3", "MARKETING", GERMAN),
        ("u1", "UTILITY", GERMAN),
        ("u2", "UTILITY", GERMAN),
        ("m4", "MARKETING", AUSTRIAN),
        ("m5", "MARKETING", AUSTRIAN),
        ("m6", "MARKETING", AMERICAN),
        ("u3", "UTILITY", AMERICAN),
    ]
    for external_id, category, recipient in conversations:
        await billing.conversation(bea, external_id, category, recipient)
    for amount, comment in [("1.50", "CRM sync"), ("1.50", "CRM sync"), ("0.25", "SMS fallback")]:
        await billing.partner.mutate(
            CHARGE, {"walletId": bea.wallet_id, "amount": amount, "comment": comment}
        )
    await billing.conversation(al, "s1", "SERVICE", GERMAN)
    moved = await billing.partner.mutate(SET_PLAN, {"c": al.id, "p": billing.plan_id})
    assert moved["customer"]["plan"] is None  # March keeps no plan
    assert moved["customer"]["nextPlan"] == {"name": "Growth"}
    assert moved["customer"]["nextPlanFrom"].startswith("2026-04-01T00:00:00")
    billing.at(2026, 4, 1, 0, 2)
    await billing.customer("Cy")
    await billing.conversation(bea, "april-1", "MARKETING", GERMAN)  # April's, not March's
    billing.at(2026, 4, 1, 0, 5)
    return {"al": al, "bea": bea}


async def test_a_month_gives_exactly_the_expected_lines_and_totals(billing):
    people = await march(billing)
    payload = await billing.partner.mutate(GENERATE, {"period": "2026-03"})
    invoices = {invoice["customer"]["id"]: invoice for invoice in payload["invoices"]}
    assert set(invoices) == {people["al"].id, people["bea"].id}  # Cy joined in April

    bea = invoices[people["bea"].id]
    assert bea["status"] == "DRAFT" and bea["period"] == "2026-03"
    assert bea["number"].startswith("DRAFT-") and bea["issuedAt"] is None
    assert lines_of(bea) == [
        # 30.00 x 21 / 31 = 20.3225806... -> 20.322581 (half-even at 6 places)
        ("Growth plan, 2026-03 (21 of 31 days, pro rata)", 1, "20.322581", "20.322581", False),
        ("Marketing conversations, DE", 3, "0.11", "0.33", True),
        ("Marketing conversations, Rest of Western Europe", 2, "0.088", "0.176", True),
        ("Marketing conversations, other markets", 1, "0.22", "0.22", True),
        ("Utility conversations, DE", 2, "0.055", "0.11", True),
        ("Utility conversations, other markets", 1, "0.066", "0.066", True),
        ("Integration: CRM sync", 2, "1.50", "3.00", True),
        ("Integration: SMS fallback", 1, "0.25", "0.25", True),
    ]
    # Tax is on what is due only: 20% of 20.322581 = 4.0645162 -> 4.064516.
    assert bea["subtotal"] == {"amount": "20.322581", "currencyCode": "USD"}
    assert bea["tax"]["amount"] == "4.064516"
    assert bea["total"]["amount"] == "24.387097"

    al = invoices[people["al"].id]
    assert lines_of(al) == [("Service conversations, DE", 1, "0.022", "0.022", True)]
    assert (al["subtotal"]["amount"], al["tax"]["amount"], al["total"]["amount"]) == (
        "0.00",
        "0.00",
        "0.00",
    )


async def test_the_new_plan_is_billed_from_the_next_period(billing):
    people = await march(billing)
    billing.at(2026, 5, 1, 0, 5)
    payload = await billing.partner.mutate(GENERATE, {"period": "2026-04"})
    al = next(i for i in payload["invoices"] if i["customer"]["id"] == people["al"].id)
    assert lines_of(al) == [("Growth plan, 2026-04", 1, "30.00", "30.00", False)]
    assert al["total"]["amount"] == "36.00"


async def test_generating_twice_gives_one_invoice_per_customer(billing):
    await march(billing)
    first = await billing.partner.mutate(GENERATE, {"period": "2026-03"})
    lines_before = await InvoiceLine.all().count()
    second = await billing.partner.mutate(GENERATE, {"period": "2026-03"})
    assert [i["id"] for i in second["invoices"]] == [i["id"] for i in first["invoices"]]
    assert [lines_of(i) for i in second["invoices"]] == [lines_of(i) for i in first["invoices"]]
    assert await Invoice.all().count() == 2
    assert await InvoiceLine.all().count() == lines_before


async def test_concurrent_generation_gives_one_invoice_per_customer(
    billing, assert_ledger_invariants
):
    await march(billing)
    for n in range(12):  # more customers, so the runs overlap in several chunks' worth
        await billing.customer(f"Extra {n}")
    billing.at(2026, 5, 1, 0, 5)
    runs = await asyncio.gather(
        *(billing.partner.mutate(GENERATE, {"period": "2026-04"}) for _ in range(10)),
        billing.admin.mutate(GENERATE, {"period": "2026-04"}),
    )
    ids = {tuple(sorted(i["id"] for i in run["invoices"])) for run in runs}
    assert len(ids) == 1  # every run answers with the same invoices
    rows = await Invoice.filter(period="2026-04").values_list("customer_id", flat=True)
    assert len(rows) == len(set(rows)) == 15  # Al, Bea, Cy and 12 extras: one each
    for invoice in await Invoice.filter(period="2026-04"):
        due = await InvoiceLine.filter(invoice_id=invoice.id, prepaid=False).count()
        assert due == 1  # the plan fee once, never twice
    # 15 plan fees and Bea's one April conversation: no line written twice.
    assert await InvoiceLine.filter(invoice__period="2026-04").count() == 16
    await assert_ledger_invariants()


async def test_a_partner_generates_only_for_its_own_customers(billing, admin):
    await march(billing)

    other = await make_tenant(admin, "Other reseller", funds="5")
    plan = await other.partner.mutate(
        """mutation { createPlan(name: "Basic", monthlyFee: "10", currencyCode: "USD",
           taxRatePercent: "0") { plan { id } userErrors { code } } }"""
    )
    await other.partner.mutate(SET_PLAN, {"c": other.customer_id, "p": plan["plan"]["id"]})
    billing.at(2026, 6, 1, 0, 5)  # the new plan starts in May
    mine = await billing.partner.mutate(GENERATE, {"period": "2026-05"})
    assert mine["invoices"] and other.customer_id not in {
        i["customer"]["id"] for i in mine["invoices"]
    }
    everyone = await admin.mutate(GENERATE, {"period": "2026-05"})
    theirs = [i for i in everyone["invoices"] if i["customer"]["id"] == other.customer_id]
    assert [lines_of(i) for i in theirs] == [[("Basic plan, 2026-05", 1, "10.00", "10.00", False)]]
    assert len(everyone["invoices"]) == len(mine["invoices"]) + 1
