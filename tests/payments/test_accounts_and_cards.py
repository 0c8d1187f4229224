"""Payment accounts, partner terms and saved cards, against localstripe."""

from __future__ import annotations

from backend.domain.models import PartnerTermsChange, PaymentAccount
from backend.secret_box import open_sealed
from tests.payments.conftest import (
    CARD_OK,
    CONNECT,
    PUBLISHABLE_KEY,
    SECRET_KEY,
    START_SETUP,
    open_shop,
    save_card,
)

ACCOUNT = """
query($p: ID!) { partner(id: $p) { paymentAccount { provider publishableKey webhookUrl } } }"""

METHODS = """
query($c: ID!) { customer(id: $c) { paymentMethods { id brand last4 expMonth expYear isDefault } } }"""

SET_DEFAULT = """
mutation($c: ID!, $m: ID!) { setDefaultPaymentMethod(customerId: $c, paymentMethodId: $m) {
  paymentMethods { id isDefault } userErrors { field code } } }"""

REMOVE = """
mutation($c: ID!, $m: ID!) { removePaymentMethod(customerId: $c, paymentMethodId: $m) {
  paymentMethods { id isDefault } userErrors { field code } } }"""

TERMS = """
mutation($p: ID!, $d: Decimal, $t: Boolean, $c: String!) {
  setPartnerTerms(partnerId: $p, dayPrice: $d, trialEligible: $t, comment: $c) {
    partner { dayPrice { amount } trialEligible } userErrors { field code } } }"""


async def test_a_partner_connects_its_account_and_the_secrets_are_sealed(
    admin, localstripe, assert_ledger_invariants
):
    shop = await open_shop(admin, localstripe, None, "acct", connect=False)
    assert (await shop.partner.data(ACCOUNT, {"p": shop.partner_id}))["partner"] == {
        "paymentAccount": None
    }
    payload = await shop.partner.mutate(
        CONNECT, {"p": shop.partner_id, "s": SECRET_KEY, "k": PUBLISHABLE_KEY, "w": "whsec_x1"}
    )
    assert payload["account"] == {
        "provider": "stripe",
        "publishableKey": PUBLISHABLE_KEY,
        "webhookUrl": f"/webhooks/stripe/{shop.partner_id}",
    }
    stored = await PaymentAccount.get(partner_id=int(shop.partner_id))
    assert stored.secret_key != SECRET_KEY and open_sealed(stored.secret_key) == SECRET_KEY
    assert open_sealed(stored.webhook_secret) == "whsec_x1"
    # Connected again: the same one account, the new keys.
    await shop.partner.mutate(
        CONNECT, {"p": shop.partner_id, "s": SECRET_KEY, "k": "pk_test_new", "w": "whsec_x2"}
    )
    assert await PaymentAccount.filter(partner_id=int(shop.partner_id)).count() == 1
    # Only ADMIN connects the platform's; a partner cannot connect another's.
    other = await open_shop(admin, localstripe, None, "other", connect=False)
    assert await other.partner.user_errors(
        CONNECT, {"s": SECRET_KEY, "k": PUBLISHABLE_KEY, "w": "whsec_platform"}
    ) == ["FORBIDDEN"]
    assert await other.partner.user_errors(
        CONNECT,
        {"p": shop.partner_id, "s": SECRET_KEY, "k": PUBLISHABLE_KEY, "w": "whsec_platform"},
    ) == ["NOT_FOUND"]
    assert await shop.customer.user_errors(
        CONNECT,
        {"p": shop.partner_id, "s": SECRET_KEY, "k": PUBLISHABLE_KEY, "w": "whsec_platform"},
    ) == ["FORBIDDEN"]
    assert await admin.user_errors(
        CONNECT, {"s": "pk_wrong", "k": PUBLISHABLE_KEY, "w": "whsec_platform"}
    ) == ["INVALID_ARGUMENT"]
    platform = await admin.mutate(
        CONNECT, {"s": SECRET_KEY, "k": "pk_platform", "w": "whsec_platform"}
    )
    assert platform["account"]["webhookUrl"] == "/webhooks/stripe/platform"
    await assert_ledger_invariants()


async def test_the_webhook_url_is_absolute_with_a_public_url(admin, localstripe, monkeypatch):
    from backend.settings import get_settings

    monkeypatch.setenv("DAYBOOK_PUBLIC_URL", "https://billing.example.com/")
    get_settings.cache_clear()
    try:
        shop = await open_shop(admin, localstripe, None, "pub")
        account = (await shop.partner.data(ACCOUNT, {"p": shop.partner_id}))["partner"]
        assert account["paymentAccount"]["webhookUrl"] == (
            f"https://billing.example.com/webhooks/stripe/{shop.partner_id}"
        )
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


async def test_partner_terms_are_kept_with_their_comment(admin, localstripe):
    shop = await open_shop(admin, localstripe, None, "terms", connect=False)
    payload = await admin.mutate(
        TERMS, {"p": shop.partner_id, "d": "3.10", "t": True, "c": "Volume deal"}
    )
    assert payload["partner"] == {"dayPrice": {"amount": "3.10"}, "trialEligible": True}
    await admin.mutate(TERMS, {"p": shop.partner_id, "t": False, "c": "Trial abuse"})
    history = await PartnerTermsChange.filter(partner_id=int(shop.partner_id)).order_by("id")
    assert [(h.day_price_micros, h.trial_eligible, h.comment) for h in history] == [
        (3_100_000, True, "Volume deal"),
        (3_100_000, False, "Trial abuse"),
    ]
    assert await admin.user_errors(TERMS, {"p": shop.partner_id, "t": True, "c": " "}) == [
        "INVALID_COMMENT"
    ]
    assert await shop.partner.user_errors(
        TERMS, {"p": shop.partner_id, "d": "0.01", "c": "cheaper please"}
    ) == ["FORBIDDEN"]
    assert await PartnerTermsChange.filter(partner_id=int(shop.partner_id)).count() == 2


async def test_cards_are_saved_listed_made_default_and_removed(
    admin, localstripe, stripe_env, sdk, assert_ledger_invariants
):
    shop = await open_shop(admin, localstripe, None, "cards")
    setup = (await shop.customer.mutate(START_SETUP, {"c": shop.customer_id}))["setup"]
    assert setup["publishableKey"] == PUBLISHABLE_KEY and "_secret_" in setup["clientSecret"]
    first = await save_card(shop.customer, sdk, shop.customer_id, CARD_OK)
    assert [
        (m["brand"], m["last4"], m["expMonth"], m["expYear"], m["isDefault"]) for m in first
    ] == [("visa", "4242", 12, 2031, True)]
    # The partner saves a second card for its customer: it becomes the default, listed first.
    second = await save_card(shop.partner, sdk, shop.customer_id, "4000000000000341")
    assert [(m["last4"], m["isDefault"]) for m in second] == [("0341", True), ("4242", False)]
    # The card really is on the provider's customer (attached, as localstripe would not).
    listed = (await shop.customer.data(METHODS, {"c": shop.customer_id}))["customer"]
    assert listed["paymentMethods"] == second
    visa = first[0]["id"]
    made_default = await shop.customer.mutate(SET_DEFAULT, {"c": shop.customer_id, "m": visa})
    assert made_default["paymentMethods"][0] == {"id": visa, "isDefault": True}
    removed = await shop.customer.mutate(REMOVE, {"c": shop.customer_id, "m": visa})
    assert removed["paymentMethods"] == [{"id": second[0]["id"], "isDefault": True}]
    assert await shop.customer.user_errors(REMOVE, {"c": shop.customer_id, "m": visa}) == [
        "NOT_FOUND"
    ]
    await assert_ledger_invariants()


async def test_another_tenants_cards_are_not_found(admin, localstripe, stripe_env, sdk):
    mine = await open_shop(admin, localstripe, None, "mine")
    theirs = await open_shop(admin, localstripe, None, "theirs")
    cards = await save_card(mine.customer, sdk, mine.customer_id)
    card = cards[0]["id"]
    for intruder in (theirs.partner, theirs.customer):
        assert await intruder.user_errors(SET_DEFAULT, {"c": mine.customer_id, "m": card}) == [
            "NOT_FOUND"
        ]
        assert await intruder.user_errors(START_SETUP, {"c": mine.customer_id}) == ["NOT_FOUND"]
        body = await intruder.execute(METHODS, {"c": mine.customer_id})
        assert body["data"]["customer"] is None
    # Their own customer, my card id: not theirs either.
    assert await theirs.partner.user_errors(SET_DEFAULT, {"c": theirs.customer_id, "m": card}) == [
        "NOT_FOUND"
    ]
    # My SetupIntent completed for their customer: names nothing there.
    setup = (await mine.customer.mutate(START_SETUP, {"c": mine.customer_id}))["setup"]
    from tests.payments.conftest import COMPLETE_SETUP, confirm_setup

    setup_id = await confirm_setup(sdk, setup["clientSecret"], CARD_OK)
    await theirs.partner.mutate(START_SETUP, {"c": theirs.customer_id})
    assert await theirs.partner.user_errors(
        COMPLETE_SETUP, {"c": theirs.customer_id, "s": setup_id}
    ) == ["NOT_FOUND"]


async def test_a_partner_without_an_account_hears_so(admin, localstripe, stripe_env):
    shop = await open_shop(admin, localstripe, None, "bare", connect=False)
    assert await shop.customer.user_errors(START_SETUP, {"c": shop.customer_id}) == [
        "PAYMENTS_NOT_CONFIGURED"
    ]


SETUP_WITH_JS = """
mutation($c: ID!) { startCardSetup(customerId: $c) { setup { stripeJsUrl } userErrors { code } } }"""


async def test_the_card_setup_says_where_the_browser_loads_stripe_js(
    admin, localstripe, stripe_env, monkeypatch
):
    from backend.settings import get_settings

    shop = await open_shop(admin, localstripe, None, "jsurl")
    setup = (await shop.customer.mutate(SETUP_WITH_JS, {"c": shop.customer_id}))["setup"]
    assert setup["stripeJsUrl"] == "https://js.stripe.com/v3/"
    monkeypatch.setenv("DAYBOOK_STRIPE_JS_URL", f"{localstripe}/js.stripe.com/v3/")
    get_settings.cache_clear()
    try:
        setup = (await shop.customer.mutate(SETUP_WITH_JS, {"c": shop.customer_id}))["setup"]
        assert setup["stripeJsUrl"] == f"{localstripe}/js.stripe.com/v3/"
    finally:
        monkeypatch.delenv("DAYBOOK_STRIPE_JS_URL")
        get_settings.cache_clear()
