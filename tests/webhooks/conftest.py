"""A partner with a configured webhook, a German-priced rate card and a live channel."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import GraphQLClient
from tests.factories import EXTEND, PURCHASE_DAYS, make_channel, make_tenant
from tests.webhooks import meta


@dataclass
class World:
    http: httpx.AsyncClient
    admin: GraphQLClient
    partner: GraphQLClient
    customer: GraphQLClient
    partner_id: str
    customer_id: str
    wallet_id: str
    channel_id: str

    async def post(self, payload, *, signature: str | None = None) -> httpx.Response:
        raw = payload if isinstance(payload, bytes) else meta.encode(payload)
        headers = {"Content-Type": "application/json"}
        headers["X-Hub-Signature-256"] = signature if signature is not None else meta.sign(raw)
        return await self.http.post(
            f"/webhooks/whatsapp/{self.partner_id}", content=raw, headers=headers
        )


@pytest.fixture
async def world(http, admin, frozen_clock) -> World:
    await admin.mutate(
        """mutation($csv: String!) { importRateCard(csv: $csv, currencyCode: "USD",
             effectiveFrom: "2026-01-01T00:00:00Z") { rates { market } userErrors { code message } } }""",
        {"csv": meta.CARD},
    )
    t = await make_tenant(admin, funds="100")
    await t.partner.mutate(
        """mutation($p: ID!, $s: String!, $v: String!) {
             configureWhatsAppWebhook(partnerId: $p, appSecret: $s, verifyToken: $v) {
               partner { id } userErrors { code } } }""",
        {"p": t.partner_id, "s": meta.APP_SECRET, "v": meta.VERIFY_TOKEN},
    )
    await t.partner.mutate(
        """mutation($p: ID!) { setPartnerMarkup(partnerId: $p, percent: "10") {
             partner { id } userErrors { code } } }""",
        {"p": t.partner_id},
    )
    await admin.mutate(PURCHASE_DAYS, {"partnerId": t.partner_id, "days": 100, "comment": "stock"})
    channel = await make_channel(t.partner, t.customer_id, 900, pid=meta.PHONE_NUMBER_ID)
    await t.partner.mutate(EXTEND, {"id": channel["id"], "days": 30, "comment": "month"})
    return World(
        http, admin, t.partner, t.customer, t.partner_id, t.customer_id, t.wallet_id, channel["id"]
    )


@pytest.fixture(autouse=True)
async def ledger_holds_after_every_test(assert_ledger_invariants):
    """Every charging test ends with the ledger invariants checked (at teardown)."""
    yield
