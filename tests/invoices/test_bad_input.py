"""Every refused invoice request: a clear code, and the database exactly as it was."""

from __future__ import annotations

import pytest

from backend.db import connection
from tests.factories import make_tenant
from tests.invoices.conftest import FINALIZE, GENERATE, INVOICE, MARK_PAID, PAY, VOID, Billing
from tests.invoices.test_lifecycle import one_invoice

TABLES = (
    "invoices",
    "invoice_lines",
    "invoice_counters",
    "ledger_entries",
    "wallets",
    "customers",
    "alerts",
    "idempotency_records",
    "plan_assignments",
)


async def snapshot() -> dict[str, list]:
    conn = connection()
    return {
        table: [
            tuple(sorted(row.items()))
            for row in await conn.execute_query_dict(f"SELECT * FROM {table} ORDER BY 1")
        ]
        for table in TABLES
    }


@pytest.mark.parametrize(
    ("period", "why"),
    [
        ("2026-13", "no 13th month"),
        ("2026-4", "two-digit month"),
        ("26-04", "four-digit year"),
        ("2026/04", "dash"),
        ("", "blank"),
        ("1999-12", "before 2000"),
        ("2026-05", "the month under way (clock: 1 May 09:00)"),
        ("2027-01", "the future"),
    ],
)
async def test_a_bad_period_is_refused(billing, period, why):
    await one_invoice(billing)
    before = await snapshot()
    errors = await billing.partner.data(GENERATE, {"period": period})
    assert [e["code"] for e in errors["generateInvoices"]["userErrors"]] == ["INVALID_PERIOD"], why
    assert errors["generateInvoices"]["userErrors"][0]["field"] == ["period"]
    assert await snapshot() == before


async def test_a_customer_key_cannot_generate(billing):
    dee, _ = await one_invoice(billing)
    before = await snapshot()
    assert await dee.client.user_errors(GENERATE, {"period": "2026-04"}) == ["FORBIDDEN"]
    assert await snapshot() == before


async def test_finalising_twice_is_refused(billing):
    _, draft = await one_invoice(billing)
    await billing.partner.mutate(FINALIZE, {"id": draft["id"]})
    before = await snapshot()
    assert await billing.partner.user_errors(FINALIZE, {"id": draft["id"]}) == ["INVOICE_NOT_DRAFT"]
    assert await snapshot() == before


async def test_paying_a_draft_a_paid_or_a_void_invoice_is_refused(billing):
    dee, draft = await one_invoice(billing)
    before = await snapshot()
    assert await dee.client.user_errors(PAY, {"id": draft["id"]}) == ["NOT_FOUND"]  # unseen draft
    assert await billing.partner.user_errors(PAY, {"id": draft["id"]}) == ["INVOICE_NOT_OPEN"]
    assert await snapshot() == before

    await billing.partner.mutate(FINALIZE, {"id": draft["id"]})
    await dee.client.mutate(PAY, {"id": draft["id"]})
    before = await snapshot()
    assert await dee.client.user_errors(PAY, {"id": draft["id"]}) == ["INVOICE_NOT_OPEN"]
    assert await billing.partner.user_errors(
        MARK_PAID, {"id": draft["id"], "comment": "again"}
    ) == ["INVOICE_NOT_OPEN"]
    assert await billing.partner.user_errors(VOID, {"id": draft["id"], "comment": "oops"}) == [
        "INVOICE_ALREADY_PAID"
    ]
    assert await snapshot() == before


async def test_paying_a_void_invoice_is_refused(billing):
    dee, draft = await one_invoice(billing)
    await billing.partner.mutate(FINALIZE, {"id": draft["id"]})
    await billing.partner.mutate(VOID, {"id": draft["id"], "comment": "Issued by mistake"})
    before = await snapshot()
    assert await dee.client.user_errors(PAY, {"id": draft["id"]}) == ["INVOICE_NOT_OPEN"]
    assert await billing.partner.user_errors(VOID, {"id": draft["id"], "comment": "x"}) == [
        "INVOICE_NOT_OPEN"
    ]
    assert await billing.partner.user_errors(FINALIZE, {"id": draft["id"]}) == ["INVOICE_NOT_DRAFT"]
    assert await snapshot() == before


async def test_paying_with_too_little_available_is_refused(billing):
    dee, draft = await one_invoice(billing, funds="35.99")
    await billing.partner.mutate(FINALIZE, {"id": draft["id"]})
    before = await snapshot()
    payload = (await dee.client.data(PAY, {"id": draft["id"], "key": "try-1"}))[
        "payInvoiceFromWallet"
    ]
    assert [e["code"] for e in payload["userErrors"]] == ["INSUFFICIENT_FUNDS"]
    assert "35.99" in payload["userErrors"][0]["message"]
    assert await snapshot() == before  # status, wallet, ledger and the key untouched


async def test_blank_comments_and_customer_keys_are_refused(billing):
    dee, draft = await one_invoice(billing)
    await billing.partner.mutate(FINALIZE, {"id": draft["id"]})
    before = await snapshot()
    assert await billing.partner.user_errors(MARK_PAID, {"id": draft["id"], "comment": "  "}) == [
        "INVALID_COMMENT"
    ]
    assert await billing.partner.user_errors(VOID, {"id": draft["id"], "comment": ""}) == [
        "INVALID_COMMENT"
    ]
    assert await dee.client.user_errors(MARK_PAID, {"id": draft["id"], "comment": "paid!"}) == [
        "FORBIDDEN"
    ]
    assert await dee.client.user_errors(VOID, {"id": draft["id"], "comment": "no"}) == ["FORBIDDEN"]
    assert await snapshot() == before


async def test_another_tenants_invoice_is_not_found(billing, admin, http):
    _dee, draft = await one_invoice(billing)
    await billing.partner.mutate(FINALIZE, {"id": draft["id"]})
    stranger = await make_tenant(admin, "Stranger", funds="500")
    before = await snapshot()
    for client in (stranger.partner, stranger.customer):
        for mutation, variables in [
            (FINALIZE, {"id": draft["id"]}),
            (PAY, {"id": draft["id"]}),
            (MARK_PAID, {"id": draft["id"], "comment": "mine"}),
            (VOID, {"id": draft["id"], "comment": "mine"}),
        ]:
            assert await client.user_errors(mutation, variables) == ["NOT_FOUND"]
        response = await client.execute(INVOICE, {"id": draft["id"]})
        assert response["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        pdf = await http.get(
            f"/invoices/{draft['id']}.pdf", headers={"Authorization": f"Bearer {client.key}"}
        )
        assert pdf.status_code == 404
    for bogus in ("0", "-1", "abc", "99999"):
        assert await billing.partner.user_errors(FINALIZE, {"id": bogus}) == ["NOT_FOUND"]
    assert await snapshot() == before


async def test_a_customer_mid_month_change_does_not_touch_the_month_under_way(billing: Billing):
    dee, _ = await one_invoice(billing)
    before = await snapshot()
    wrong = await billing.partner.data(
        """mutation($c: ID!) { setCustomerPlan(customerId: $c, planId: "987654") {
             customer { id } userErrors { field code } } }""",
        {"c": dee.id},
    )
    assert wrong["setCustomerPlan"]["userErrors"] == [{"field": ["planId"], "code": "NOT_FOUND"}]
    assert await snapshot() == before


async def test_an_empty_plan_id_is_not_read_as_no_plan(billing):
    dee, _ = await one_invoice(billing)
    before = await snapshot()
    for bogus in ("", "  ", "x1"):
        errors = await billing.partner.data(
            """mutation($c: ID!, $p: ID) { setCustomerPlan(customerId: $c, planId: $p) {
                 customer { id } userErrors { field code } } }""",
            {"c": dee.id, "p": bogus},
        )
        assert errors["setCustomerPlan"]["userErrors"] == [
            {"field": ["planId"], "code": "NOT_FOUND"}
        ]
    assert await snapshot() == before
