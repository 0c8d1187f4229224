"""Partners buy days from the platform through the platform's Stripe account."""

from __future__ import annotations

import httpx

from backend.domain.models import DayEntry, DayEntryKind, Partner, Payment, ProviderEvent
from tests.payments.conftest import (
    CONNECT,
    SECRET_KEY,
    open_shop,
    register_webhook,
    signed,
    until,
)
from tests.payments.test_top_ups import confirm_in_browser

BUY = """
mutation($p: ID!, $d: Int!, $k: String!) { buyDays(partnerId: $p, days: $d, idempotencyKey: $k) {
  payment { id purpose status amount { amount currencyCode } clientSecret providerReference
            dayEntry { kind days comment } entry { id } }
  replayed userErrors { field code message } } }"""

PURCHASES = """
query($p: ID!) { partner(id: $p) { dayBalance dayPurchases {
  totalCount edges { node { id status amount { amount } dayEntry { days } } } } } }"""

TERMS = """
mutation($p: ID!, $d: Decimal) { setPartnerTerms(partnerId: $p, dayPrice: $d, comment: "New price") {
  userErrors { code } } }"""


async def test_a_partner_buys_days_and_gets_them_when_the_payment_succeeds(
    admin, localstripe, app_server, sdk, assert_ledger_invariants
):
    shop = await open_shop(admin, localstripe, app_server, "buyer")
    assert await shop.partner.user_errors(BUY, {"p": shop.partner_id, "d": 10, "k": "b-0"}) == [
        "PAYMENTS_NOT_CONFIGURED"
    ]
    await admin.mutate(CONNECT, {"s": SECRET_KEY, "k": "pk_test_platform", "w": "whsec_platform"})
    await register_webhook(
        localstripe, "platform", f"{app_server}/webhooks/stripe/platform", "whsec_platform"
    )
    bought = await shop.partner.mutate(BUY, {"p": shop.partner_id, "d": 10, "k": "b-1"})
    payment = bought["payment"]
    assert payment["purpose"] == "DAY_PURCHASE" and payment["status"] == "PENDING"
    assert payment["amount"] == {"amount": "25.00", "currencyCode": "USD"}  # 10 x 2.50
    assert payment["clientSecret"] and payment["dayEntry"] is None
    assert (await Partner.get(id=int(shop.partner_id))).day_balance == 0
    # The price changes before the payment lands: the purchase keeps the price it was made at.
    await admin.mutate(TERMS, {"p": shop.partner_id, "d": "4.00"})
    await confirm_in_browser(sdk, payment["id"])

    async def landed():
        return (await Payment.get(id=int(payment["id"]))).day_entry_id

    await until(landed, "the platform's succeeded event")
    entry = await DayEntry.get(partner_id=int(shop.partner_id))
    assert entry.kind == DayEntryKind.PURCHASE and entry.days == 10
    assert "10 days at 2.50 USD per day" in entry.comment and "paid 25.00 USD" in entry.comment
    listed = (await shop.partner.data(PURCHASES, {"p": shop.partner_id}))["partner"]
    assert listed["dayBalance"] == 10
    assert listed["dayPurchases"]["totalCount"] == 1
    assert listed["dayPurchases"]["edges"][0]["node"]["dayEntry"] == {"days": 10}
    # The same key: the same purchase; the partner's own endpoint ignored the platform's event.
    again = await shop.partner.mutate(BUY, {"p": shop.partner_id, "d": 10, "k": "b-1"})
    assert again["replayed"] and again["payment"]["status"] == "SUCCEEDED"
    assert again["payment"]["dayEntry"]["kind"] == "PURCHASE"
    assert await shop.partner.user_errors(BUY, {"p": shop.partner_id, "d": 11, "k": "b-1"}) == [
        "IDEMPOTENCY_KEY_REUSED"
    ]
    assert (await Partner.get(id=int(shop.partner_id))).day_balance == 10
    # A refund of a day purchase is not applied by itself: a dead letter for an admin.
    refund = {
        "id": "evt_day_refund",
        "type": "charge.refunded",
        "data": {
            "object": {
                "id": "ch_day",
                "payment_intent": payment["providerReference"],
                "amount_refunded": 2500,
            }
        },
    }
    body, headers = signed(refund, "whsec_platform")
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{app_server}/webhooks/stripe/platform", content=body, headers=headers
        )
    assert answer.status_code == 200 and answer.json()["status"] == "DEAD"
    dead = await ProviderEvent.get(provider_event_id="evt_day_refund")
    assert "day purchase" in dead.error
    assert (await Partner.get(id=int(shop.partner_id))).day_balance == 10
    await assert_ledger_invariants()


async def test_buying_days_is_the_partners_own_business(admin, localstripe, stripe_env):
    await admin.mutate(CONNECT, {"s": SECRET_KEY, "k": "pk_test_platform", "w": "whsec_platform"})
    shop = await open_shop(admin, localstripe, None, "mine")
    other = await open_shop(admin, localstripe, None, "theirs")
    assert await other.partner.user_errors(BUY, {"p": shop.partner_id, "d": 5, "k": "o-1"}) == [
        "NOT_FOUND"
    ]
    assert await shop.customer.user_errors(BUY, {"p": shop.partner_id, "d": 5, "k": "o-2"}) == [
        "FORBIDDEN"
    ]
    assert await shop.partner.user_errors(BUY, {"p": shop.partner_id, "d": 0, "k": "o-3"}) == [
        "INVALID_DAYS"
    ]
    body = await other.partner.execute(PURCHASES, {"p": shop.partner_id})
    assert body["data"]["partner"] is None
    assert await Payment.all().count() == 0
