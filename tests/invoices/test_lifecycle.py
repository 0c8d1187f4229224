"""DRAFT -> OPEN -> PAID or VOID: numbering, payment from the wallet, overdue suspension."""

from __future__ import annotations

import asyncio
import re

from backend.domain.models import LedgerEntry
from backend.jobs import runner
from tests.invoices.conftest import FINALIZE, GENERATE, INVOICE, MARK_PAID, PAY, VOID, Billing

AUTHORIZE = """mutation($c: ID!, $r: [String!]!) {
  authorizeBroadcast(channelId: $c, category: MARKETING, recipients: $r) {
    hold { id status } userErrors { code message } } }"""
ALERTS = """{ alerts(first: 20) { kind message customerId resolvedAt } }"""
CUSTOMER = "query($id: ID!) { customer(id: $id) { suspended } }"


async def one_invoice(billing: Billing, *, funds: str = "100") -> tuple:
    """Dee, on Growth since before April, and her April invoice (36.00 with tax)."""
    billing.at(2026, 3, 20, 10, 0)
    dee = await billing.customer("Dee", funds=funds)
    billing.at(2026, 5, 1, 9, 0)
    payload = await billing.partner.mutate(GENERATE, {"period": "2026-04"})
    (invoice,) = [i for i in payload["invoices"] if i["customer"]["id"] == dee.id]
    assert invoice["total"]["amount"] == "36.00"
    return dee, invoice


async def test_finalising_numbers_dates_and_opens_the_invoice(billing):
    dee, draft = await one_invoice(billing)
    opened = (await billing.partner.mutate(FINALIZE, {"id": draft["id"]}))["invoice"]
    assert opened["status"] == "OPEN"
    assert opened["number"] == f"P{billing.partner_id}-2026-000001"
    assert opened["issuedAt"].startswith("2026-05-01T09:00:00")
    assert opened["dueAt"].startswith("2026-05-16T09:00:00")  # issued + 15 days
    assert opened["pdfUrl"].endswith(f"/invoices/{draft['id']}.pdf")
    # The customer sees it once issued (never as a draft).
    seen = await dee.client.data(INVOICE, {"id": draft["id"]})
    assert seen["invoice"]["number"] == opened["number"]


async def test_a_customer_does_not_see_drafts(billing):
    dee, draft = await one_invoice(billing)
    response = await dee.client.execute(INVOICE, {"id": draft["id"]})
    assert response["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    listed = await dee.client.data(
        "query($id: ID!) { customer(id: $id) { invoices { totalCount } } }", {"id": dee.id}
    )
    assert listed["customer"]["invoices"]["totalCount"] == 0


async def test_twenty_concurrent_finalisations_number_1_to_20_without_gaps(
    billing, assert_ledger_invariants
):
    billing.at(2026, 3, 20, 10, 0)
    for n in range(20):
        await billing.customer(f"Customer {n}")
    billing.at(2026, 5, 1, 9, 0)
    drafts = (await billing.partner.mutate(GENERATE, {"period": "2026-04"}))["invoices"]
    assert len(drafts) == 20
    results = await asyncio.gather(
        *(billing.partner.mutate(FINALIZE, {"id": draft["id"]}) for draft in drafts)
    )
    numbers = sorted(result["invoice"]["number"] for result in results)
    assert numbers == [f"P{billing.partner_id}-2026-{n:06d}" for n in range(1, 21)]
    await assert_ledger_invariants()


async def test_finalising_one_invoice_concurrently_takes_one_number(
    billing, assert_ledger_invariants
):
    _, draft = await one_invoice(billing)
    results = await asyncio.gather(
        *(billing.partner.data(FINALIZE, {"id": draft["id"]}) for _ in range(8))
    )
    payloads = [result["finalizeInvoice"] for result in results]
    winners = [p for p in payloads if not p["userErrors"]]
    assert len(winners) == 1
    assert {p["userErrors"][0]["code"] for p in payloads if p["userErrors"]} == {
        "INVOICE_NOT_DRAFT"
    }
    # The losers' numbers went back: the next invoice gets 2, not 9.
    billing.at(2026, 5, 1, 10, 0)
    later = await billing.customer("Late")
    billing.at(2026, 6, 1, 9, 0)
    june = (await billing.partner.mutate(GENERATE, {"period": "2026-05"}))["invoices"]
    mine = next(i for i in june if i["customer"]["id"] == later.id)
    numbered = await billing.partner.mutate(FINALIZE, {"id": mine["id"]})
    assert numbered["invoice"]["number"] == f"P{billing.partner_id}-2026-000002"
    await assert_ledger_invariants()


async def test_overdue_suspends_and_paying_unsuspends_at_once(billing):
    dee, draft = await one_invoice(billing)
    opened = (await billing.partner.mutate(FINALIZE, {"id": draft["id"]}))["invoice"]

    billing.at(2026, 5, 16, 8, 59)  # one minute before due: nothing happens
    await runner.run_once()
    assert (await billing.partner.data(CUSTOMER, {"id": dee.id}))["customer"]["suspended"] is False

    billing.at(2026, 5, 16, 9, 1)
    reports = await runner.run_once()
    assert reports["invoice-overdue"] == 1
    assert (await billing.partner.data(CUSTOMER, {"id": dee.id}))["customer"]["suspended"] is True
    overdue = [
        a for a in (await dee.client.data(ALERTS))["alerts"] if a["kind"] == "INVOICE_OVERDUE"
    ]
    assert len(overdue) == 1 and opened["number"] in overdue[0]["message"]
    assert overdue[0]["resolvedAt"] is None
    refused = await dee.client.data(AUTHORIZE, {"c": dee.channel_id, "r": ["+4915112340001"]})
    assert refused["authorizeBroadcast"]["userErrors"][0]["code"] == "CUSTOMER_SUSPENDED"
    assert (await runner.run_once())["invoice-overdue"] == 0  # once per invoice

    paid = await dee.client.mutate(PAY, {"id": draft["id"], "key": "pay-april"})
    assert paid["invoice"]["status"] == "PAID"
    assert paid["invoice"]["paidAt"].startswith("2026-05-16T09:01:00")
    assert paid["invoice"]["customer"]["suspended"] is False
    entry = await LedgerEntry.get(kind="INVOICE_PAYMENT")
    assert (entry.amount_micros, entry.reference) == (-36_000_000, opened["number"])
    alerts = [
        a for a in (await dee.client.data(ALERTS))["alerts"] if a["kind"] == "INVOICE_OVERDUE"
    ]
    assert alerts[0]["resolvedAt"] is not None
    allowed = await dee.client.mutate(AUTHORIZE, {"c": dee.channel_id, "r": ["+4915112340001"]})
    assert allowed["hold"]["status"] == "ACTIVE"


async def test_paying_with_the_same_key_again_is_replayed(billing):
    dee, draft = await one_invoice(billing)
    await billing.partner.mutate(FINALIZE, {"id": draft["id"]})
    first = await dee.client.mutate(PAY, {"id": draft["id"], "key": "k1"})
    again = await dee.client.mutate(PAY, {"id": draft["id"], "key": "k1"})
    assert (first["replayed"], again["replayed"]) == (False, True)
    assert again["invoice"]["status"] == "PAID"
    assert await LedgerEntry.filter(kind="INVOICE_PAYMENT").count() == 1


async def test_concurrent_payments_move_the_money_once(billing, assert_ledger_invariants):
    dee, draft = await one_invoice(billing)
    await billing.partner.mutate(FINALIZE, {"id": draft["id"]})
    results = await asyncio.gather(*(dee.client.data(PAY, {"id": draft["id"]}) for _ in range(10)))
    codes = [r["payInvoiceFromWallet"]["userErrors"] for r in results]
    assert sum(1 for c in codes if not c) == 1
    assert {c[0]["code"] for c in codes if c} == {"INVOICE_NOT_OPEN"}
    assert await LedgerEntry.filter(kind="INVOICE_PAYMENT").count() == 1
    await assert_ledger_invariants()


async def test_mark_paid_and_void(billing):
    _dee, draft = await one_invoice(billing)
    await billing.partner.mutate(FINALIZE, {"id": draft["id"]})
    billing.at(2026, 5, 20, 0, 0)
    await runner.run_once()  # overdue: suspended
    marked = await billing.partner.mutate(
        MARK_PAID, {"id": draft["id"], "comment": "Bank transfer 2026-05-19"}
    )
    assert marked["invoice"]["status"] == "PAID"
    assert marked["invoice"]["customer"]["suspended"] is False
    assert await LedgerEntry.filter(kind="INVOICE_PAYMENT").count() == 0  # no money moved

    billing.at(2026, 5, 21, 0, 0)
    other = await billing.customer("Eve")
    billing.at(2026, 6, 1, 1, 0)
    june = (await billing.partner.mutate(GENERATE, {"period": "2026-05"}))["invoices"]
    eve = next(i for i in june if i["customer"]["id"] == other.id)
    voided = await billing.partner.mutate(VOID, {"id": eve["id"], "comment": "Goodwill"})
    assert voided["invoice"]["status"] == "VOID"
    assert re.fullmatch(r"DRAFT-\d+", voided["invoice"]["number"])


async def test_nothing_due_is_paid_on_issue(billing):
    billing.at(2026, 3, 20, 10, 0)
    fay = await billing.customer("Fay", plan=False)
    await billing.conversation(fay, "c1", "MARKETING", "+4915112345678")
    billing.at(2026, 4, 1, 0, 5)
    (draft,) = (await billing.partner.mutate(GENERATE, {"period": "2026-03"}))["invoices"]
    issued = await billing.partner.mutate(FINALIZE, {"id": draft["id"]})
    assert issued["invoice"]["status"] == "PAID"
    assert issued["invoice"]["total"]["amount"] == "0.00"
    billing.at(2026, 5, 1, 0, 0)
    assert (await runner.run_once())["invoice-overdue"] == 0


async def test_a_draft_voided_before_issue_stays_out_of_the_customers_sight(billing, http):
    dee, draft = await one_invoice(billing)
    await billing.partner.mutate(VOID, {"id": draft["id"], "comment": "Wrong plan"})
    response = await dee.client.execute(INVOICE, {"id": draft["id"]})
    assert response["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    listed = await dee.client.data(
        "query($id: ID!) { customer(id: $id) { invoices { totalCount } } }", {"id": dee.id}
    )
    assert listed["customer"]["invoices"]["totalCount"] == 0
    pdf = await http.get(
        f"/invoices/{draft['id']}.pdf", headers={"Authorization": f"Bearer {dee.client.key}"}
    )
    assert pdf.status_code == 404
    # The partner still sees it, voided.
    assert (await billing.partner.data(INVOICE, {"id": draft["id"]}))["invoice"]["status"] == "VOID"


async def test_a_partner_lists_every_customers_invoices_in_pages(billing, admin):
    billing.at(2026, 3, 20, 10, 0)
    for n in range(3):
        await billing.customer(f"Customer {n}")
    for month in (4, 5, 6):
        billing.at(2026, month + 1, 1, 9, 0)
        await billing.partner.mutate(GENERATE, {"period": f"2026-{month:02d}"})
    query = """query($p: ID!, $after: String, $status: InvoiceStatus, $period: String) {
      partner(id: $p) { invoices(first: 4, after: $after, status: $status, period: $period) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id period } } } } }"""
    seen, after = [], None
    while True:
        page = (await billing.partner.data(query, {"p": billing.partner_id, "after": after}))[
            "partner"
        ]["invoices"]
        assert page["totalCount"] == 9
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 9  # 3 customers x 3 months, newest first
    assert seen == sorted(seen, key=int, reverse=True)
    may = await billing.partner.data(query, {"p": billing.partner_id, "period": "2026-05"})
    assert {e["node"]["period"] for e in may["partner"]["invoices"]["edges"]} == {"2026-05"}
    drafts = await billing.partner.data(query, {"p": billing.partner_id, "status": "OPEN"})
    assert drafts["partner"]["invoices"]["totalCount"] == 0
    # A customer key may read its partner's name, never its other customers' invoices.
    customer = await billing.customer("Nosy")
    refused = await customer.client.execute(query, {"p": billing.partner_id})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_an_admin_narrows_alerts_to_one_partner(billing, admin):
    from tests.factories import make_tenant

    dee, draft = await one_invoice(billing)
    await billing.partner.mutate(FINALIZE, {"id": draft["id"]})
    billing.at(2026, 5, 20, 0, 0)
    await runner.run_once()  # INVOICE_OVERDUE for Acme's customer
    other = await make_tenant(admin, "Other reseller")
    query = "query($p: ID) { alerts(first: 50, partnerId: $p) { kind partnerId } }"
    mine = (await admin.data(query, {"p": billing.partner_id}))["alerts"]
    assert mine and {a["partnerId"] for a in mine} == {billing.partner_id}
    assert (await admin.data(query, {"p": other.partner_id}))["alerts"] == []
    refused = await other.partner.execute(query, {"p": billing.partner_id})
    assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert dee.id
