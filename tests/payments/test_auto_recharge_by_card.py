"""Auto-recharge on the default card, when the partner has a Stripe account connected."""

from __future__ import annotations

from backend.domain.models import (
    Alert,
    AlertKind,
    AutoRechargeRule,
    LedgerEntry,
    LedgerEntryKind,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    ProviderEventStatus,
    RechargeAttempt,
)
from backend.domain.unit_of_work import drain_after_commit
from tests.payments.conftest import CARD_AUTHENTICATE, CARD_DECLINED, CARD_OK, save_card, until
from tests.payments.test_top_ups import balance, processed

CONFIGURE = """mutation($w: ID!) {
  configureAutoRecharge(walletId: $w, input: {enabled: true, threshold: "10", amount: "20",
                                              dailyCap: "200"}) { userErrors { code } } }"""

TOP_UP = """mutation($w: ID!, $a: Decimal!) { topUpWallet(walletId: $w, amount: $a) {
  userErrors { code } } }"""

CHARGE = """mutation($w: ID!, $a: Decimal!, $c: String!) {
  chargeIntegration(walletId: $w, amount: $a, comment: $c) { userErrors { code } } }"""

LISTED = """query($w: ID!) { wallet(id: $w) { autoRecharge { enabled consecutiveFailures lastError }
  payments { edges { node { purpose status failureCode entry { kind amount { amount } } } } } } }"""


async def cross(shop, number: int) -> None:
    """Fund the wallet up to 15 and spend 10: below the threshold of 10, a recharge starts."""
    missing = 15_000_000 - await balance(shop.wallet_id)
    if missing > 0:
        await shop.partner.mutate(TOP_UP, {"w": shop.wallet_id, "a": str(missing / 1_000_000)})
    await shop.partner.mutate(CHARGE, {"w": shop.wallet_id, "a": "10", "c": f"usage {number}"})
    await drain_after_commit()


async def test_the_default_card_recharges_once_and_the_payment_is_listed(
    admin, shop, sdk, assert_ledger_invariants
):
    await save_card(shop.customer, sdk, shop.customer_id, CARD_OK)
    await shop.customer.mutate(CONFIGURE, {"w": shop.wallet_id})
    await cross(shop, 1)
    assert await balance(shop.wallet_id) == 25_000_000  # 15 - 10 + 20
    payment = await Payment.get(purpose=PaymentPurpose.AUTO_RECHARGE)
    assert payment.status == PaymentStatus.SUCCEEDED and payment.provider_reference
    attempt = await RechargeAttempt.get(id=payment.recharge_attempt_id)
    assert payment.entry_id == attempt.ledger_entry_id
    listed = (await shop.customer.data(LISTED, {"w": shop.wallet_id}))["wallet"]
    assert listed["payments"]["edges"][0]["node"] == {
        "purpose": "AUTO_RECHARGE",
        "status": "SUCCEEDED",
        "failureCode": None,
        "entry": {"kind": "AUTO_RECHARGE", "amount": {"amount": "20.00"}},
    }
    # The provider's event for that intent arrives: nothing more is credited.
    await until(
        await processed(type="payment_intent.succeeded", status=ProviderEventStatus.PROCESSED),
        "the recharge's succeeded event",
    )
    assert await balance(shop.wallet_id) == 25_000_000
    assert (
        await LedgerEntry.filter(
            wallet_id=int(shop.wallet_id), kind=LedgerEntryKind.AUTO_RECHARGE
        ).count()
        == 1
    )
    await assert_ledger_invariants()


async def test_declines_count_towards_the_three_failures(
    admin, shop, sdk, assert_ledger_invariants
):
    await save_card(shop.customer, sdk, shop.customer_id, CARD_DECLINED)
    await shop.customer.mutate(CONFIGURE, {"w": shop.wallet_id})
    for number in range(3):
        await cross(shop, number)
    rule = await AutoRechargeRule.get(wallet_id=int(shop.wallet_id))
    assert rule.enabled is False and rule.consecutive_failures == 3
    assert rule.last_error == "card_declined"
    failed = await Payment.filter(purpose=PaymentPurpose.AUTO_RECHARGE).values_list(
        "status", "failure_code"
    )
    assert failed == [(PaymentStatus.FAILED, "card_declined")] * 3
    assert await Alert.filter(kind=AlertKind.AUTO_RECHARGE_FAILED).count() == 3
    assert await balance(shop.wallet_id) == 5_000_000  # nothing recharged
    await assert_ledger_invariants()


async def test_authentication_required_pauses_the_rule_and_alerts_the_customer(
    admin, shop, sdk, assert_ledger_invariants
):
    await save_card(shop.customer, sdk, shop.customer_id, CARD_AUTHENTICATE)
    await shop.customer.mutate(CONFIGURE, {"w": shop.wallet_id})
    await cross(shop, 1)
    rule = await AutoRechargeRule.get(wallet_id=int(shop.wallet_id))
    assert rule.enabled is False and rule.consecutive_failures == 0
    assert "authentication required" in rule.last_error
    payment = await Payment.get(purpose=PaymentPurpose.AUTO_RECHARGE)
    assert payment.status == PaymentStatus.REQUIRES_ACTION and payment.client_secret
    alerts = (await shop.customer.data("{ alerts { kind message } }"))["alerts"]
    assert any(
        a["kind"] == "AUTO_RECHARGE_FAILED" and "authenticate" in a["message"] for a in alerts
    )
    # Paused: the next crossing asks nothing.
    await cross(shop, 2)
    assert await Payment.filter(purpose=PaymentPurpose.AUTO_RECHARGE).count() == 1
    assert await balance(shop.wallet_id) == 5_000_000
    await assert_ledger_invariants()


async def test_without_a_saved_card_the_recharge_fails_clearly(admin, shop, sdk):
    await shop.customer.mutate(CONFIGURE, {"w": shop.wallet_id})
    await cross(shop, 1)
    payment = await Payment.get(purpose=PaymentPurpose.AUTO_RECHARGE)
    assert payment.status == PaymentStatus.FAILED and payment.failure_code == "no_saved_card"
    rule = await AutoRechargeRule.get(wallet_id=int(shop.wallet_id))
    assert rule.consecutive_failures == 1 and rule.last_error == "no_saved_card"
