"""Card top-ups and the provider's events, against localstripe and the app on a socket."""

from __future__ import annotations

import asyncio

import httpx

from backend.domain import payments
from backend.domain.models import (
    Alert,
    AlertKind,
    LedgerEntry,
    LedgerEntryKind,
    Payment,
    PaymentStatus,
    ProviderEvent,
    ProviderEventStatus,
    Wallet,
)
from backend.settings import get_settings
from tests.payments.conftest import (
    CARD_AUTHENTICATE,
    CARD_DECLINED,
    CARD_OK,
    open_shop,
    provider_event,
    save_card,
    signed,
    until,
)
from tests.servers import free_port

PAY = """
mutation($w: ID!, $a: Decimal!, $k: String!, $m: ID) {
  payTopUp(walletId: $w, amount: $a, idempotencyKey: $k, paymentMethodId: $m) {
    payment { id purpose status amount { amount currencyCode } providerReference clientSecret
              failureCode entry { kind amount { amount } reference } dayEntry { id } }
    replayed userErrors { field code message }
  }
}"""

PAYMENTS = """
query($w: ID!, $s: PaymentStatus) { wallet(id: $w) {
  balance { amount }
  payments(status: $s) { totalCount edges { node { id status clientSecret } } } } }"""

TOP_UP = """
mutation($w: ID!) { topUpWallet(walletId: $w, amount: "1.00") { wallet { balance { amount } }
  userErrors { code } } }"""

EVENTS = """
query($s: ProviderEventStatus) { paymentEvents(status: $s) { edges { node { type status error } } } }"""


async def balance(wallet_id: str) -> int:
    return (await Wallet.get(id=int(wallet_id))).balance_micros


async def processed(account_events: int = 1, **filters):
    async def check():
        return await ProviderEvent.filter(**filters).count() >= account_events

    return check


async def test_a_saved_card_pays_at_once_and_the_event_credits_nothing_more(
    admin, shop, sdk, assert_ledger_invariants
):
    await save_card(shop.customer, sdk, shop.customer_id, CARD_OK)
    payload = await shop.customer.mutate(PAY, {"w": shop.wallet_id, "a": "25.00", "k": "t-1"})
    payment = payload["payment"]
    assert payment["status"] == "SUCCEEDED" and payment["purpose"] == "TOP_UP"
    assert payment["providerReference"].startswith("pi_")
    assert payment["entry"] == {
        "kind": "TOP_UP",
        "amount": {"amount": "25.00"},
        "reference": payment["providerReference"],
    }
    assert payment["clientSecret"] is None and payload["replayed"] is False
    # localstripe POSTs payment_intent.succeeded to the app a second later: stored, applied, no credit.
    await until(
        await processed(type="payment_intent.succeeded", status=ProviderEventStatus.PROCESSED),
        "the succeeded event",
    )
    assert await balance(shop.wallet_id) == 25_000_000
    # The same key and input: the same payment; another input: refused.
    again = await shop.customer.mutate(PAY, {"w": shop.wallet_id, "a": "25.00", "k": "t-1"})
    assert again["replayed"] is True and again["payment"]["id"] == payment["id"]
    assert await shop.customer.user_errors(
        PAY, {"w": shop.wallet_id, "a": "26.00", "k": "t-1"}
    ) == ["IDEMPOTENCY_KEY_REUSED"]
    assert await balance(shop.wallet_id) == 25_000_000
    assert await LedgerEntry.filter(wallet_id=int(shop.wallet_id)).count() == 1
    listed = (await shop.customer.data(PAYMENTS, {"w": shop.wallet_id}))["wallet"]
    assert listed["payments"]["totalCount"] == 1
    await assert_ledger_invariants()


async def test_a_declined_card_moves_no_money_and_raises_an_alert(
    admin, shop, sdk, assert_ledger_invariants
):
    await save_card(shop.customer, sdk, shop.customer_id, CARD_DECLINED)
    payload = await shop.partner.mutate(PAY, {"w": shop.wallet_id, "a": "10.00", "k": "d-1"})
    assert payload["payment"]["status"] == "FAILED"
    assert payload["payment"]["failureCode"] == "card_declined"
    assert payload["payment"]["entry"] is None
    assert await balance(shop.wallet_id) == 0
    alert = await Alert.get(kind=AlertKind.PAYMENT_FAILED)
    assert alert.wallet_id == int(shop.wallet_id) and "card_declined" in alert.message
    await until(await processed(type="payment_intent.payment_failed"), "the payment_failed event")
    assert await balance(shop.wallet_id) == 0
    assert await Alert.filter(kind=AlertKind.PAYMENT_FAILED).count() == 1
    await assert_ledger_invariants()


async def test_a_card_that_needs_authentication_requires_action(admin, shop, sdk):
    await save_card(shop.customer, sdk, shop.customer_id, CARD_AUTHENTICATE)
    payload = await shop.customer.mutate(PAY, {"w": shop.wallet_id, "a": "10.00", "k": "a-1"})
    assert payload["payment"]["status"] == "REQUIRES_ACTION"
    assert "_secret_" in payload["payment"]["clientSecret"]
    assert await balance(shop.wallet_id) == 0
    # Only the payer sees the client secret.
    seen = await admin.data(PAYMENTS, {"w": shop.wallet_id, "s": "REQUIRES_ACTION"})
    assert seen["wallet"]["payments"]["edges"][0]["node"]["clientSecret"] is None
    mine = await shop.customer.data(PAYMENTS, {"w": shop.wallet_id, "s": "REQUIRES_ACTION"})
    assert mine["wallet"]["payments"]["edges"][0]["node"]["clientSecret"]
    none = await shop.customer.data(PAYMENTS, {"w": shop.wallet_id, "s": "SUCCEEDED"})
    assert none["wallet"]["payments"]["totalCount"] == 0


async def confirm_in_browser(sdk, payment_id: str, card: str = CARD_OK) -> str:
    """The payer's browser confirms a PENDING payment's intent (as Stripe.js would)."""
    reference = (await Payment.get(id=int(payment_id))).provider_reference
    method = await sdk.v1.payment_methods.create_async(
        params={
            "type": "card",
            "card": {"number": card, "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        }
    )
    # localstripe's confirm takes no payment method: it is set on the intent first.
    await sdk.v1.payment_intents.update_async(reference, params={"payment_method": method.id})
    await sdk.v1.payment_intents.confirm_async(reference)
    return reference


async def test_without_a_card_the_money_arrives_with_the_event_before_or_after_the_answer(
    admin, shop, sdk, assert_ledger_invariants
):
    first = await shop.customer.mutate(PAY, {"w": shop.wallet_id, "a": "5.00", "k": "p-1"})
    assert first["payment"]["status"] == "PENDING" and first["payment"]["clientSecret"]
    assert await balance(shop.wallet_id) == 0
    # The event first, then our own question to the provider: one credit.
    reference = await confirm_in_browser(sdk, first["payment"]["id"])
    await until(
        await processed(provider_event_id__isnull=False, status=ProviderEventStatus.PROCESSED),
        "the succeeded event",
    )
    assert await balance(shop.wallet_id) == 5_000_000
    assert await payments.refresh(int(first["payment"]["id"])) == "unchanged"
    # Our question first (the answer), then the event: one credit.
    second = await shop.customer.mutate(PAY, {"w": shop.wallet_id, "a": "7.00", "k": "p-2"})
    await confirm_in_browser(sdk, second["payment"]["id"])
    assert await payments.refresh(int(second["payment"]["id"])) == "succeeded"
    assert await balance(shop.wallet_id) == 12_000_000
    await until(
        await processed(2, status=ProviderEventStatus.PROCESSED), "the second succeeded event"
    )
    assert await balance(shop.wallet_id) == 12_000_000
    entries = await LedgerEntry.filter(wallet_id=int(shop.wallet_id)).order_by("id")
    assert [(e.kind, e.amount_micros) for e in entries] == [
        (LedgerEntryKind.TOP_UP, 5_000_000),
        (LedgerEntryKind.TOP_UP, 7_000_000),
    ]
    assert entries[0].reference == reference
    await assert_ledger_invariants()


async def test_one_event_twice_and_twenty_times_at_once_credits_once(
    admin, shop, sdk, app_server, assert_ledger_invariants
):
    paid = await shop.customer.mutate(PAY, {"w": shop.wallet_id, "a": "3.00", "k": "c-1"})
    reference = await confirm_in_browser(sdk, paid["payment"]["id"])
    event = await provider_event(sdk, "payment_intent.succeeded", reference)
    url = f"{app_server}/webhooks/stripe/{shop.partner_id}"

    async def deliver(client: httpx.AsyncClient) -> int:
        body, headers = signed(event, shop.webhook_secret)
        return (await client.post(url, content=body, headers=headers)).status_code

    async with httpx.AsyncClient(timeout=30) as client:
        answers = await asyncio.gather(*(deliver(client) for _ in range(20)))
        assert answers == [200] * 20
        assert await deliver(client) == 200  # and once more, later
    assert await ProviderEvent.filter(provider_event_id=event["id"]).count() == 1
    assert await balance(shop.wallet_id) == 3_000_000
    # localstripe's own delivery of that event lands as a duplicate too.
    await asyncio.sleep(0)
    assert await LedgerEntry.filter(wallet_id=int(shop.wallet_id)).count() == 1
    await assert_ledger_invariants()


async def _chunks(body: bytes):
    """A body sent without Content-Length, chunk by chunk."""
    for start in range(0, len(body), 64 * 1024):
        yield body[start : start + 64 * 1024]


async def test_a_bad_signature_is_refused_and_nothing_stored(admin, shop, sdk, app_server):
    paid = await shop.customer.mutate(PAY, {"w": shop.wallet_id, "a": "3.00", "k": "s-1"})
    reference = await confirm_in_browser(sdk, paid["payment"]["id"])
    event = await provider_event(sdk, "payment_intent.succeeded", reference)
    body, headers = signed(event, "whsec_somebody_else")
    before = await ProviderEvent.all().count()
    async with httpx.AsyncClient() as client:
        url = f"{app_server}/webhooks/stripe/{shop.partner_id}"
        refused = await client.post(url, content=body, headers=headers)
        unsigned = await client.post(url, content=body)
        tampered_body, good = signed(event, shop.webhook_secret)
        tampered = await client.post(
            url, content=tampered_body.replace(b"3.00", b"9.00") + b" ", headers=good
        )
        nowhere = await client.post(
            f"{app_server}/webhooks/stripe/999999", content=body, headers=headers
        )
        # Over 1 MiB, declared or only streamed: refused while reading, never held whole.
        huge = b"{" + b" " * (2 * 1024 * 1024) + b"}"
        oversized = await client.post(url, content=huge, headers=good)
        streamed = await client.post(url, content=_chunks(huge), headers=good)
    assert refused.status_code == 400 and unsigned.status_code == 400
    assert tampered.status_code == 400 and nowhere.status_code == 404
    assert oversized.status_code == 404 and streamed.status_code == 404
    assert await ProviderEvent.filter(provider_event_id=event["id"]).count() <= 1
    assert await ProviderEvent.all().count() - before <= 1  # only localstripe's own, signed


async def test_events_about_another_accounts_objects_are_ignored(
    admin, shop, sdk, localstripe, app_server, assert_ledger_invariants
):
    other = await open_shop(admin, localstripe, app_server, "other")
    await save_card(shop.customer, sdk, shop.customer_id, CARD_OK)
    await shop.customer.mutate(PAY, {"w": shop.wallet_id, "a": "4.00", "k": "i-1"})
    # localstripe sends every endpoint every event: the other shop stores it, ignores it.
    await until(
        await processed(
            account__partner_id=int(other.partner_id), status=ProviderEventStatus.IGNORED
        ),
        "the other endpoint's copy",
    )
    assert await balance(other.wallet_id) == 0
    assert await balance(shop.wallet_id) == 4_000_000
    await assert_ledger_invariants()


async def test_refunds_and_disputes_debit_once_with_a_comment_and_an_alert(
    admin, shop, sdk, app_server, assert_ledger_invariants
):
    await save_card(shop.customer, sdk, shop.customer_id, CARD_OK)
    paid = await shop.customer.mutate(PAY, {"w": shop.wallet_id, "a": "20.00", "k": "r-1"})
    reference = paid["payment"]["providerReference"]
    await sdk.v1.refunds.create_async(params={"payment_intent": reference, "amount": 500})
    intent = await sdk.v1.payment_intents.retrieve_async(reference)
    charge = (
        await sdk.v1.charges.retrieve_async(intent.to_dict()["charges"]["data"][0]["id"])
    ).to_dict()
    refunded = {"id": "evt_refund_1", "type": "charge.refunded", "data": {"object": charge}}
    dispute = {
        "id": "evt_dispute_1",
        "type": "charge.dispute.created",
        "data": {
            "object": {
                "id": "dp_1",
                "object": "dispute",
                "amount": 1000,
                "charge": charge["id"],
                "payment_intent": reference,
            }
        },
    }
    url = f"{app_server}/webhooks/stripe/{shop.partner_id}"
    async with httpx.AsyncClient() as client:
        for event in (refunded, refunded, dispute, {**dispute, "id": "evt_dispute_again"}):
            body, headers = signed(event, shop.webhook_secret)
            assert (await client.post(url, content=body, headers=headers)).status_code == 200
    entries = await LedgerEntry.filter(wallet_id=int(shop.wallet_id)).order_by("id")
    assert [(e.kind, e.amount_micros) for e in entries] == [
        (LedgerEntryKind.TOP_UP, 20_000_000),
        (LedgerEntryKind.REFUND, -5_000_000),
        (LedgerEntryKind.ADJUSTMENT, -10_000_000),
    ]
    assert "Refunded" in entries[1].comment and "Disputed" in entries[2].comment
    assert await Alert.filter(kind=AlertKind.PAYMENT_FAILED).count() == 2
    await assert_ledger_invariants()


async def test_canceled_and_requires_action_events_move_the_status(admin, shop, sdk, app_server):
    paid = await shop.customer.mutate(PAY, {"w": shop.wallet_id, "a": "2.00", "k": "x-1"})
    reference = paid["payment"]["providerReference"]
    intent = (await sdk.v1.payment_intents.retrieve_async(reference)).to_dict()
    url = f"{app_server}/webhooks/stripe/{shop.partner_id}"
    async with httpx.AsyncClient() as client:
        for number, kind in enumerate(
            ["payment_intent.requires_action", "payment_intent.canceled"]
        ):
            event = {"id": f"evt_status_{number}", "type": kind, "data": {"object": intent}}
            body, headers = signed(event, shop.webhook_secret)
            assert (await client.post(url, content=body, headers=headers)).status_code == 200
            expected = PaymentStatus.REQUIRES_ACTION if number == 0 else PaymentStatus.CANCELED
            assert (await Payment.get(provider_reference=reference)).status == expected
    assert await balance(shop.wallet_id) == 0


async def test_an_unappliable_event_is_a_dead_letter_an_admin_sees(admin, shop, sdk, app_server):
    paid = await shop.customer.mutate(PAY, {"w": shop.wallet_id, "a": "2.00", "k": "z-1"})
    reference = paid["payment"]["providerReference"]
    # A refund of a payment that never succeeded: nothing to take back. A dispute of a
    # DAY_PURCHASE is another; here, an event whose object is unreadable.
    event = {
        "id": "evt_dead_1",
        "type": "charge.refunded",
        "data": {"object": {"id": "ch_x", "payment_intent": reference, "amount_refunded": "many"}},
    }
    body, headers = signed(event, shop.webhook_secret)
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{app_server}/webhooks/stripe/{shop.partner_id}", content=body, headers=headers
        )
    assert answer.status_code == 200
    dead = await admin.data(EVENTS, {"s": "DEAD"})
    assert [(e["node"]["type"], e["node"]["status"]) for e in dead["paymentEvents"]["edges"]] == [
        ("charge.refunded", "DEAD")
    ]
    assert dead["paymentEvents"]["edges"][0]["node"]["error"]
    body = await shop.partner.execute(EVENTS, {"s": "DEAD"})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_provider_unreachable_is_a_clear_error_and_holds_no_lock(
    admin, shop, sdk, monkeypatch, assert_ledger_invariants
):
    await save_card(shop.customer, sdk, shop.customer_id, CARD_OK)
    monkeypatch.setenv("DAYBOOK_STRIPE_API_BASE", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    body = await shop.customer.data(PAY, {"w": shop.wallet_id, "a": "9.00", "k": "u-1"})
    errors = body["payTopUp"]["userErrors"]
    assert [e["code"] for e in errors] == ["PROVIDER_UNAVAILABLE"]
    assert "could not be reached" in errors[0]["message"]
    stored = await Payment.get(idempotency_key="u-1")
    assert stored.status == PaymentStatus.FAILED and stored.failure_code == "provider_unavailable"
    # Nothing is locked: the wallet moves at once.
    moved = await asyncio.wait_for(shop.partner.mutate(TOP_UP, {"w": shop.wallet_id}), 5)
    assert moved["wallet"]["balance"]["amount"] == "1.00"
    assert await shop.customer.user_errors(
        "mutation($c: ID!) { startCardSetup(customerId: $c) { userErrors { code } } }",
        {"c": shop.customer_id},
    ) == ["PROVIDER_UNAVAILABLE"]
    await assert_ledger_invariants()


async def test_top_ups_need_an_account_and_stay_within_the_tenant(
    admin, shop, sdk, localstripe, app_server
):
    bare = await open_shop(admin, localstripe, None, "bare", connect=False)
    assert await bare.customer.user_errors(PAY, {"w": bare.wallet_id, "a": "1.00", "k": "n-1"}) == [
        "PAYMENTS_NOT_CONFIGURED"
    ]
    cards = await save_card(shop.customer, sdk, shop.customer_id, CARD_OK)
    await shop.customer.mutate(PAY, {"w": shop.wallet_id, "a": "1.00", "k": "n-2"})
    other = await open_shop(admin, localstripe, None, "other2")
    for intruder in (other.partner, other.customer):
        assert await intruder.user_errors(PAY, {"w": shop.wallet_id, "a": "1.00", "k": "n-3"}) == [
            "NOT_FOUND"
        ]
        seen = await intruder.execute(PAYMENTS, {"w": shop.wallet_id})
        assert seen["data"]["wallet"] is None
    # Someone else's card on one's own wallet: not found.
    assert await other.customer.user_errors(
        PAY, {"w": other.wallet_id, "a": "1.00", "k": "n-4", "m": cards[0]["id"]}
    ) == ["NOT_FOUND"]
    assert await admin.user_errors(PAY, {"w": shop.wallet_id, "a": "1.00", "k": "n-5"}) == [
        "FORBIDDEN"
    ]
    assert await shop.customer.user_errors(
        PAY, {"w": shop.wallet_id, "a": "1.001", "k": "n-6"}
    ) == ["INVALID_AMOUNT"]
    assert await shop.customer.user_errors(PAY, {"w": shop.wallet_id, "a": "-1", "k": "n-7"}) == [
        "INVALID_AMOUNT"
    ]
