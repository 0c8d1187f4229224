"""A partner billing March 2026: a rate card, a plan, customers with channels.

Built through the public API under the frozen clock (it starts on
2026-03-01 12:00 UTC), as an integrator would build it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from backend.domain.clock import FrozenClock
from tests.conftest import GraphQLClient
from tests.factories import EXTEND, PURCHASE_DAYS, make_channel, make_partner
from tests.webhooks import meta

CREATE_PLAN = """mutation($name: String!, $fee: Decimal!, $tax: Decimal!) {
  createPlan(name: $name, monthlyFee: $fee, currencyCode: "USD", taxRatePercent: $tax) {
    plan { id name monthlyFee { amount } taxRatePercent } userErrors { code message } } }"""

CREATE_CUSTOMER = """mutation($p: ID!, $name: String!, $plan: ID) {
  createCustomer(partnerId: $p, name: $name, planId: $plan) {
    customer { id wallet { id } } apiKey userErrors { code message } } }"""

RECORD = """mutation($c: ID!, $x: String!, $cat: ConversationCategory!, $r: String!) {
  recordConversation(channelId: $c, externalId: $x, category: $cat, recipient: $r) {
    conversation { id price { amount } market } duplicate userErrors { code message } } }"""

TOP_UP = """mutation($w: ID!, $a: Decimal!) { topUpWallet(walletId: $w, amount: $a) {
  wallet { id } userErrors { code } } }"""

INVOICE_FIELDS = """id number period status issuedAt dueAt paidAt pdfUrl
  subtotal { amount currencyCode } tax { amount } total { amount }
  customer { id suspended }
  lines { description quantity unitPrice { amount } amount { amount } prepaid }"""

GENERATE = (
    """mutation($period: String!) { generateInvoices(period: $period) {
  invoices { """
    + INVOICE_FIELDS
    + """ } userErrors { field code message } } }"""
)
FINALIZE = (
    """mutation($id: ID!) { finalizeInvoice(invoiceId: $id) { invoice { """
    + INVOICE_FIELDS
    + """ } userErrors { field code message } } }"""
)
PAY = (
    """mutation($id: ID!, $key: String) { payInvoiceFromWallet(invoiceId: $id, idempotencyKey: $key) {
  invoice { """
    + INVOICE_FIELDS
    + """ } replayed userErrors { field code message } } }"""
)
MARK_PAID = """mutation($id: ID!, $comment: String!) { markInvoicePaid(invoiceId: $id, comment: $comment) {
  invoice { id status paidAt customer { suspended } } userErrors { field code message } } }"""
VOID = """mutation($id: ID!, $comment: String!) { voidInvoice(invoiceId: $id, comment: $comment) {
  invoice { id status number } userErrors { field code message } } }"""
INVOICE = "query($id: ID!) { invoice(id: $id) { " + INVOICE_FIELDS + " } }"


@dataclass
class Customer:
    id: str
    wallet_id: str
    client: GraphQLClient
    channel_id: str


@dataclass
class Billing:
    admin: GraphQLClient
    partner: GraphQLClient
    partner_id: str
    plan_id: str
    clock: FrozenClock
    channels_made: int = 0

    async def customer(self, name: str, *, plan: bool = True, funds: str = "100") -> Customer:
        payload = await self.partner.mutate(
            CREATE_CUSTOMER,
            {"p": self.partner_id, "name": name, "plan": self.plan_id if plan else None},
        )
        customer_id = payload["customer"]["id"]
        wallet_id = payload["customer"]["wallet"]["id"]
        await self.partner.mutate(TOP_UP, {"w": wallet_id, "a": funds})
        self.channels_made += 1
        channel = await make_channel(self.partner, customer_id, self.channels_made)
        await self.partner.mutate(
            EXTEND, {"id": channel["id"], "days": 60, "comment": "two months"}
        )
        return Customer(
            customer_id, wallet_id, self.partner.as_key(payload["apiKey"]), channel["id"]
        )

    async def conversation(
        self, customer: Customer, external_id: str, category: str, recipient: str
    ) -> dict:
        return await self.partner.mutate(
            RECORD,
            {
                "c": customer.channel_id,
                "x": external_id,
                "cat": category,
                "r": "+" + recipient.lstrip("+"),
            },
        )

    def at(self, *args: int) -> None:
        self.clock.set(datetime(*args, tzinfo=UTC))


@pytest.fixture
async def billing(admin, frozen_clock) -> Billing:
    await admin.mutate(
        """mutation($csv: String!) { importRateCard(csv: $csv, currencyCode: "USD",
             effectiveFrom: "2026-01-01T00:00:00Z") { rates { market } userErrors { code } } }""",
        {"csv": meta.CARD},
    )
    partner_id, partner = await make_partner(admin, "Acme Reseller")
    await partner.mutate(
        """mutation($p: ID!) { setPartnerMarkup(partnerId: $p, percent: "10") {
             partner { id } userErrors { code } } }""",
        {"p": partner_id},
    )
    await admin.mutate(PURCHASE_DAYS, {"partnerId": partner_id, "days": 10_000, "comment": "stock"})
    plan = await partner.mutate(CREATE_PLAN, {"name": "Growth", "fee": "30.00", "tax": "20"})
    return Billing(admin, partner, partner_id, plan["plan"]["id"], frozen_clock)


@pytest.fixture(autouse=True)
async def ledger_holds_after_every_test(assert_ledger_invariants):
    """Every invoice test ends with the ledger and invoice invariants checked."""
    yield
