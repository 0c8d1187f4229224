"""``Payment.publishableKey`` and ``Payment.stripeJsUrl``: what the payer's browser needs to
finish a payment with Stripe.js, from the account that created the PaymentIntent (the
platform's for a day purchase, the partner's for a top-up); only to the payer, only while the
payment waits for the browser (PENDING, REQUIRES_ACTION)."""

from __future__ import annotations

from backend.domain.models import Payment
from backend.settings import get_settings
from tests.payments.conftest import (
    CARD_DECLINED,
    CONNECT,
    PUBLISHABLE_KEY,
    SECRET_KEY,
    open_shop,
    register_webhook,
    save_card,
    until,
)
from tests.payments.test_top_ups import confirm_in_browser

PLATFORM_KEY = "pk_test_platform"

BUY = """
mutation($p: ID!, $d: Int!, $k: String!) { buyDays(partnerId: $p, days: $d, idempotencyKey: $k) {
  payment { id status publishableKey stripeJsUrl clientSecret } userErrors { code } } }"""

PAY = """
mutation($w: ID!, $a: Decimal!, $k: String!) { payTopUp(walletId: $w, amount: $a, idempotencyKey: $k) {
  payment { id status publishableKey stripeJsUrl clientSecret } userErrors { code } } }"""

PURCHASES = """
query($p: ID!) { partner(id: $p) { dayPurchases { edges { node {
  id status publishableKey stripeJsUrl } } } } }"""

WALLET_PAYMENTS = """
query($w: ID!) { wallet(id: $w) { payments { edges { node {
  id status publishableKey stripeJsUrl } } } } }"""


def node(data: dict, payment_id: str) -> dict:
    edges = data["edges"]
    return next(edge["node"] for edge in edges if edge["node"]["id"] == payment_id)


async def settled(payment_id: str, status: str) -> None:
    async def check() -> bool:
        return (await Payment.get(id=int(payment_id))).status == status

    await until(check, f"payment {payment_id} {status}")


async def test_a_day_purchase_shows_the_platforms_key_to_the_partner_only_while_pending(
    admin, localstripe, app_server, sdk
):
    await admin.mutate(CONNECT, {"s": SECRET_KEY, "k": PLATFORM_KEY, "w": "whsec_platform"})
    await register_webhook(
        localstripe, "platform", f"{app_server}/webhooks/stripe/platform", "whsec_platform"
    )
    shop = await open_shop(admin, localstripe, app_server, "keyed")
    other = await open_shop(admin, localstripe, app_server, "other")
    bought = await shop.partner.mutate(BUY, {"p": shop.partner_id, "d": 4, "k": "pk-1"})
    payment = bought["payment"]
    assert payment["status"] == "PENDING" and payment["clientSecret"]
    # The platform's key, not the partner's own (PUBLISHABLE_KEY): the platform made the intent.
    assert payment["publishableKey"] == PLATFORM_KEY != PUBLISHABLE_KEY
    assert payment["stripeJsUrl"] == get_settings().stripe_js_url
    mine = await shop.partner.data(PURCHASES, {"p": shop.partner_id})
    assert node(mine["partner"]["dayPurchases"], payment["id"])["publishableKey"] == PLATFORM_KEY
    # Not the payer: the admin sees the purchase, without the key or the script's address.
    seen = await admin.data(PURCHASES, {"p": shop.partner_id})
    listed = node(seen["partner"]["dayPurchases"], payment["id"])
    assert listed["publishableKey"] is None and listed["stripeJsUrl"] is None
    assert (await other.partner.execute(PURCHASES, {"p": shop.partner_id}))["data"][
        "partner"
    ] is None
    # Paid: nothing left for the browser to do, so no key.
    await confirm_in_browser(sdk, payment["id"])
    await settled(payment["id"], "SUCCEEDED")
    done = await shop.partner.data(PURCHASES, {"p": shop.partner_id})
    listed = node(done["partner"]["dayPurchases"], payment["id"])
    assert listed["status"] == "SUCCEEDED"
    assert listed["publishableKey"] is None and listed["stripeJsUrl"] is None


async def test_a_top_up_shows_the_partners_key_to_the_payer_only_while_pending(admin, shop, sdk):
    # The platform has an account too: a top-up still names the partner's.
    await admin.mutate(CONNECT, {"s": SECRET_KEY, "k": PLATFORM_KEY, "w": "whsec_platform"})
    paid = await shop.customer.mutate(PAY, {"w": shop.wallet_id, "a": "6.00", "k": "pk-t1"})
    payment = paid["payment"]
    assert payment["status"] == "PENDING" and payment["clientSecret"]
    assert payment["publishableKey"] == PUBLISHABLE_KEY
    assert payment["stripeJsUrl"] == get_settings().stripe_js_url
    # The customer paying sees it; the admin does not.
    mine = await shop.customer.data(WALLET_PAYMENTS, {"w": shop.wallet_id})
    assert node(mine["wallet"]["payments"], payment["id"])["publishableKey"] == PUBLISHABLE_KEY
    seen = await admin.data(WALLET_PAYMENTS, {"w": shop.wallet_id})
    listed = node(seen["wallet"]["payments"], payment["id"])
    assert listed["publishableKey"] is None and listed["stripeJsUrl"] is None
    # SUCCEEDED: null.
    await confirm_in_browser(sdk, payment["id"])
    await settled(payment["id"], "SUCCEEDED")
    mine = await shop.customer.data(WALLET_PAYMENTS, {"w": shop.wallet_id})
    listed = node(mine["wallet"]["payments"], payment["id"])
    assert listed["status"] == "SUCCEEDED" and listed["publishableKey"] is None
    # FAILED (a declined saved card): null at once.
    await save_card(shop.customer, sdk, shop.customer_id, CARD_DECLINED)
    declined = await shop.customer.mutate(PAY, {"w": shop.wallet_id, "a": "6.00", "k": "pk-t2"})
    assert declined["payment"]["status"] == "FAILED"
    assert declined["payment"]["publishableKey"] is None
    assert declined["payment"]["stripeJsUrl"] is None
