"""Cards, top-ups by card and days bought, in a real headless Chromium against the real API,
the real Reflex server and a real localstripe (its Stripe.js stand-in runs in the page).

Every check of what moved asks the API itself, not the page.
"""

from __future__ import annotations

import re
from decimal import Decimal

import stripe
from playwright.sync_api import Page, expect

from tests.browser.conftest import World
from tests.browser.test_dashboard import go, sign_in
from tests.browser.world import Tenant
from tests.payments.conftest import CARD_AUTHENTICATE, CARD_DECLINED, CARD_OK, SECRET_KEY

CARDS = "query($c: ID!) { customer(id: $c) { paymentMethods { id last4 isDefault } } }"
WALLET = """
query($w: ID!) { wallet(id: $w) { balance { amount }
  payments(first: 5) { edges { node { status failureCode amount { amount } } } } } }"""
PURCHASES = """
query($p: ID!) { partner(id: $p) { dayBalance dayPurchases(first: 5) {
  edges { node { status providerReference amount { amount } dayEntry { days } } } } } }"""
START = """
mutation($c: ID!) { startCardSetup(customerId: $c) {
  setup { clientSecret } userErrors { code message } } }"""
COMPLETE = """
mutation($c: ID!, $s: String!) { completeCardSetup(customerId: $c, setupIntentId: $s) {
  paymentMethods { id } userErrors { code message } } }"""


def sdk(stripe_server: str) -> stripe.StripeClient:
    """The provider as a payer's browser elsewhere sees it: the real SDK, at localstripe."""
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": stripe_server})


def saved_card(world: World, shop: Tenant, stripe_server: str, number: str) -> None:
    """A card saved by another client of the API (the SDK confirming, as Stripe.js would)."""
    customer = shop.customers[0]
    setup = world.api.mutate(customer["key"], START, {"c": customer["id"]}, "startCardSetup")
    client = sdk(stripe_server)
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        }
    )
    setup_id = setup["setup"]["clientSecret"].split("_secret_")[0]
    confirmed = client.v1.setup_intents.confirm(setup_id, params={"payment_method": method.id})
    if confirmed.status == "requires_action":
        client.v1.setup_intents.confirm(setup_id)  # the card holder passed 3-D Secure
    world.api.mutate(
        customer["key"], COMPLETE, {"c": customer["id"], "s": setup_id}, "completeCardSetup"
    )


def wallet(world: World, shop: Tenant) -> dict:
    return world.api(shop.key, WALLET, {"w": shop.customers[0]["wallet"]})["wallet"]


def open_wallet(page: Page, world: World, shop: Tenant) -> None:
    sign_in(page, world, shop.key)
    go(page, "wallets")
    expect(page.locator("#wallet-customer")).to_have_text("Corner Bakery")


def test_customer_adds_a_card_with_stripe_js(page: Page, world: World, shop: Tenant) -> None:
    customer = shop.customers[0]
    before = world.api(customer["key"], CARDS, {"c": customer["id"]})["customer"]
    sign_in(page, world, customer["key"])
    go(page, "wallets")
    page.click("#card-add")
    # localstripe's card Element: plain inputs the stand-in mounts in #card-element.
    element = page.locator("#card-element")
    element.get_by_placeholder("number").fill(CARD_OK)
    element.get_by_placeholder("exp_month").fill("12")
    element.get_by_placeholder("exp_year").fill("31")
    element.get_by_placeholder("cvc").fill("123")
    element.get_by_placeholder("postal_code").fill("75001")
    page.click("#card-save")
    row = page.locator("#cards-table .card-row", has_text="4242")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Visa")
    expect(row).to_contain_text("12/2031")
    expect(row).to_contain_text("Default")
    after = world.api(customer["key"], CARDS, {"c": customer["id"]})["customer"]["paymentMethods"]
    assert len(after) == len(before["paymentMethods"]) + 1
    assert after[0]["last4"] == "4242" and after[0]["isDefault"]


def test_partner_tops_up_by_card_and_the_balance_moves(
    page: Page, world: World, shop: Tenant, stripe_server: str
) -> None:
    saved_card(world, shop, stripe_server, CARD_OK)  # the default now
    before = Decimal(wallet(world, shop)["balance"]["amount"])
    open_wallet(page, world, shop)
    page.fill("#card-pay-amount", "40.00")
    page.click("#card-pay-confirm")
    latest = page.locator("#payments-table .payment-row").first
    expect(latest).to_contain_text("40.00 USD")
    expect(latest.locator(".payment-status")).to_have_text("Succeeded")
    after = before + Decimal("40.00")
    expect(page.locator("#wallet-balance")).to_contain_text(f"{after:,.2f} USD")
    data = wallet(world, shop)
    assert Decimal(data["balance"]["amount"]) == after
    assert data["payments"]["edges"][0]["node"]["status"] == "SUCCEEDED"


def test_a_declined_card_shows_its_error_and_moves_nothing(
    page: Page, world: World, shop: Tenant, stripe_server: str
) -> None:
    saved_card(world, shop, stripe_server, CARD_OK)
    saved_card(world, shop, stripe_server, CARD_DECLINED)  # the default now
    before = wallet(world, shop)["balance"]["amount"]
    open_wallet(page, world, shop)
    page.fill("#card-pay-amount", "15.00")
    page.click("#card-pay-confirm")
    expect(page.locator("#card-pay-error")).to_contain_text("card_declined")
    latest = page.locator("#payments-table .payment-row").first
    expect(latest.locator(".payment-status")).to_have_text("Failed")
    expect(latest).to_contain_text("card_declined")
    data = wallet(world, shop)
    assert data["balance"]["amount"] == before
    assert data["payments"]["edges"][0]["node"]["status"] == "FAILED"
    # The declined card is put aside: another card made the default, the declined one removed.
    declined = page.locator("#cards-table .card-row", has_text="0341").first
    expect(declined).to_contain_text("Default")
    page.locator("#cards-table .card-row", has_text="4242").first.locator(
        ".card-make-default"
    ).click()
    expect(declined).not_to_contain_text("Default")
    declined.locator(".card-remove").click()
    expect(page.locator("#cards-table .card-row", has_text="0341")).to_have_count(0)
    customer = shop.customers[0]
    methods = world.api(customer["key"], CARDS, {"c": customer["id"]})["customer"]
    assert all(m["last4"] != "0341" for m in methods["paymentMethods"])
    assert methods["paymentMethods"][0]["last4"] == "4242"
    assert methods["paymentMethods"][0]["isDefault"]


def test_a_payment_the_bank_wants_authenticated_is_authenticated_in_the_page(
    page: Page, world: World, shop: Tenant, stripe_server: str
) -> None:
    """REQUIRES_ACTION -> "Authenticate": Stripe.js's confirmCardPayment(clientSecret), here the
    stand-in's 3-D Secure modal; the provider's event then credits the wallet."""
    saved_card(world, shop, stripe_server, CARD_AUTHENTICATE)  # the default now
    before = Decimal(wallet(world, shop)["balance"]["amount"])
    open_wallet(page, world, shop)
    page.fill("#card-pay-amount", "20.00")
    page.click("#card-pay-confirm")
    latest = page.locator("#payments-table .payment-row").first
    expect(latest).to_contain_text("20.00 USD")
    expect(latest.locator(".payment-status")).to_have_text("Action required")
    assert Decimal(wallet(world, shop)["balance"]["amount"]) == before
    latest.locator(".payment-authenticate").click()
    # The stand-in's 3-D Secure modal, as the bank's page would be.
    page.get_by_role("button", name="Complete authentication").click()
    expect(page.locator("#payment-finish-notice")).to_contain_text("Authentication done")
    expect(latest.locator(".payment-status")).to_have_text("Succeeded", timeout=30000)
    after = before + Decimal("20.00")
    expect(page.locator("#wallet-balance")).to_contain_text(f"{after:,.2f} USD")
    data = wallet(world, shop)
    assert Decimal(data["balance"]["amount"]) == after
    assert data["payments"]["edges"][0]["node"]["status"] == "SUCCEEDED"


def test_partner_buys_days_and_sees_the_purchase(
    page: Page, world: World, shop: Tenant, stripe_server: str
) -> None:
    """A PENDING purchase gets "Pay with a card": the card Element is mounted with the
    PLATFORM's publishable key (the platform made the PaymentIntent), from the Stripe.js URL the
    API gave, as the page's own record of what it passed to Stripe.js shows. localstripe's
    Stripe.js stand-in cannot pay a PaymentIntent with a card (its confirmCardPayment is only the
    3-D Secure step), so the SDK confirms the intent here, as the payer's browser would."""
    before = world.api(shop.key, PURCHASES, {"p": shop.partner_id})["partner"]
    sign_in(page, world, shop.key)
    go(page, "billing")
    page.fill("#buy-days", "10")
    page.click("#buy-days-review")
    expect(page.locator("#buy-days-cost")).to_have_text("10 days x 2.50 USD = 25.00 USD")
    page.click("#buy-days-confirm")
    latest = page.locator("#purchases-table .purchase-row").first
    expect(latest).to_contain_text("25.00 USD")
    expect(latest.locator(".payment-status")).to_have_text("Pending")
    expect(page.locator("#buy-days-notice")).to_contain_text("days are added")
    latest.locator(".payment-pay").click()
    form = page.locator("#purchase-card-element")
    expect(form.get_by_placeholder("number")).to_be_visible()  # the stand-in's card Element
    expect(page.locator("#purchase-finish-confirm")).to_be_enabled()
    mounted = page.evaluate("window.daybookCards.mounted")
    assert mounted == {
        "url": f"{stripe_server}/js.stripe.com/v3/",
        "publishableKey": "pk_test_platform",
        "elementId": "purchase-card-element",
    }
    # The platform's PaymentIntent is paid with a card by the payer's browser; localstripe's
    # Stripe.js stand-in cannot pay an intent with a card, so the SDK plays that part here.
    pending = world.api(shop.key, PURCHASES, {"p": shop.partner_id})["partner"]
    reference = pending["dayPurchases"]["edges"][0]["node"]["providerReference"]
    client = sdk(stripe_server)
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": CARD_OK, "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        }
    )
    client.v1.payment_intents.update(reference, params={"payment_method": method.id})
    client.v1.payment_intents.confirm(reference)
    # The provider's signed event lands; the page follows without a reload.
    expect(latest.locator(".payment-status")).to_have_text("Succeeded", timeout=30000)
    expect(latest).to_contain_text("10 days")
    expect(
        page.get_by_text(re.compile(rf"Day balance: ?{before['dayBalance'] + 10} days"))
    ).to_be_visible()
    after = world.api(shop.key, PURCHASES, {"p": shop.partner_id})["partner"]
    assert after["dayBalance"] == before["dayBalance"] + 10
    assert after["dayPurchases"]["edges"][0]["node"]["status"] == "SUCCEEDED"
    assert after["dayPurchases"]["edges"][0]["node"]["dayEntry"] == {"days": 10}
