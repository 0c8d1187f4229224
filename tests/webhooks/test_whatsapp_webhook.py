"""Meta's webhook, signed and shaped as Meta sends it: what gets charged, once, and what not."""

from __future__ import annotations

import asyncio
import json

from backend.domain.models import Conversation, LedgerEntry, WebhookEvent
from tests.factories import wallet_state
from tests.webhooks import meta
from tests.webhooks.meta import AMERICAN, AUSTRIAN, body, status

CHARGES = "query($w: ID!) { wallet(id: $w) { balance { amount } entries(kind: CONVERSATION_CHARGE) { totalCount edges { node { amount { amount } reference } } } } }"


async def charges(world) -> list[tuple[str, str]]:
    data = await world.partner.data(CHARGES, {"w": world.wallet_id})
    return [
        (e["node"]["reference"], e["node"]["amount"]["amount"])
        for e in data["wallet"]["entries"]["edges"]
    ]


async def balance(world) -> str:
    return (await wallet_state(world.partner, world.wallet_id))["balance"]["amount"]


async def test_verification_handshake(world):
    url = f"/webhooks/whatsapp/{world.partner_id}"
    ok = await world.http.get(
        url,
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": meta.VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    wrong = await world.http.get(
        url, params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}
    )
    assert wrong.status_code == 403
    unknown = await world.http.get(
        "/webhooks/whatsapp/999999",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": meta.VERIFY_TOKEN,
            "hub.challenge": "1",
        },
    )
    assert unknown.status_code == 403


async def test_cbp_sent_delivered_read_charges_once_on_delivery(world, assert_ledger_invariants):
    sent = status("wamid.A1", "sent", model="CBP", conversation_id="CONV-1")
    assert (await world.post(body(sent))).status_code == 200
    assert await charges(world) == []  # a sent message can still fail
    delivered = status("wamid.A1", "delivered", model="CBP", conversation_id="CONV-1")
    second_message = status("wamid.A2", "delivered", model="CBP", conversation_id="CONV-1")
    read = status("wamid.A1", "read", model="CBP", conversation_id="CONV-1")
    for payload in (body(delivered), body(second_message, read)):
        response = await world.post(payload)
        assert response.status_code == 200 and response.json()["status"] == "PROCESSED"
    # One conversation, one charge: DE marketing 0.10 + 10% markup.
    assert await charges(world) == [("CONV-1", "-0.11")]
    assert await balance(world) == "99.89"
    await assert_ledger_invariants()


async def test_pmp_v24_without_conversation_charges_per_message(world, assert_ledger_invariants):
    payload = body(
        status("wamid.P1", "delivered", model="PMP", category="utility"),
        status("wamid.P2", "delivered", AUSTRIAN, model="PMP"),
        status("wamid.P3", "read", AMERICAN, model="PMP", category="authentication"),
    )
    assert (await world.post(payload)).status_code == 200
    assert sorted(await charges(world)) == [
        ("wamid.P1", "-0.055"),  # DE utility 0.05 x 1.1
        ("wamid.P2", "-0.088"),  # AT -> Rest of Western Europe marketing 0.08 x 1.1
        ("wamid.P3", "-0.044"),  # US -> not in this card -> "*" authentication 0.04 x 1.1
    ]
    markets = dict(await Conversation.all().values_list("external_id", "market"))
    assert markets == {"wamid.P1": "DE", "wamid.P2": "Rest of Western Europe", "wamid.P3": "*"}
    await assert_ledger_invariants()


async def test_failed_costs_nothing(world):
    await world.post(body(status("wamid.F1", "sent"), status("wamid.F1", "failed")))
    assert await charges(world) == []
    assert await balance(world) == "100.00"


async def test_reordered_and_duplicated_deliveries_charge_once(world, assert_ledger_invariants):
    read = body(status("wamid.R1", "read"))
    delivered = body(status("wamid.R1", "delivered"))
    for payload in (read, delivered, delivered, read):
        assert (await world.post(payload)).status_code == 200
    assert await charges(world) == [("wamid.R1", "-0.11")]
    assert await WebhookEvent.all().count() == 4
    await assert_ledger_invariants()


async def test_100_concurrent_deliveries_of_one_status_charge_once(world, assert_ledger_invariants):
    payload = body(status("wamid.C1", "delivered", model="CBP", conversation_id="CONV-C"))
    responses = await asyncio.gather(*(world.post(payload) for _ in range(100)))
    assert {r.status_code for r in responses} == {200}
    assert await charges(world) == [("CONV-C", "-0.11")]
    assert await Conversation.filter(external_id="CONV-C").count() == 1
    await assert_ledger_invariants()


async def test_free_types_are_recorded_at_zero(world):
    await world.post(
        body(
            status("wamid.E1", "delivered", price_type="free_entry_point"),
            status("wamid.S1", "delivered", category="service", price_type="free_customer_service"),
            status("wamid.L1", "delivered", price_type=None, billable=False),  # legacy
        )
    )
    assert await charges(world) == []
    rows = (
        await Conversation.all()
        .order_by("external_id")
        .values_list("external_id", "billable", "price_micros", "origin")
    )
    assert rows == [
        ("wamid.E1", False, 0, "BUSINESS_INITIATED"),
        ("wamid.L1", False, 0, "BUSINESS_INITIATED"),
        ("wamid.S1", False, 0, "USER_INITIATED"),
    ]


async def test_legacy_billable_and_both_authentication_spellings(world):
    await world.post(
        body(
            status("wamid.B1", "delivered", price_type=None, billable=True),
            status("wamid.I1", "delivered", AMERICAN, category="authentication-international"),
            status("wamid.I2", "delivered", AMERICAN, category="authentication_international"),
        )
    )
    assert sorted(await charges(world)) == [
        ("wamid.B1", "-0.11"),
        ("wamid.I1", "-0.099"),
        ("wamid.I2", "-0.099"),
    ]


async def test_bad_or_missing_signatures_store_nothing(world):
    payload = body(status("wamid.X1", "delivered"))
    raw = meta.encode(payload)
    for signature in (
        "",
        "sha256=" + "0" * 64,
        meta.sign(raw, "another-secret"),
        meta.sign(raw + b" "),
    ):
        response = await world.post(raw, signature=signature)
        assert response.status_code == 401
        refused = response.json()
    # An unknown partner gets the very same answer as a bad signature.
    for partner_id in ("999999", "0", "x"):
        unknown = await world.http.post(
            f"/webhooks/whatsapp/{partner_id}",
            content=raw,
            headers={"X-Hub-Signature-256": meta.sign(raw)},
        )
        assert (unknown.status_code, unknown.json()) == (401, refused)
    assert await WebhookEvent.all().count() == 0
    assert await charges(world) == []


async def test_oversized_bodies_are_refused(world):
    raw = b'{"entry": [' + b" " * (1024 * 1024) + b"]}"
    response = await world.post(raw)
    assert response.status_code == 413
    assert await WebhookEvent.all().count() == 0


async def test_unprocessable_events_are_kept_as_dead_letters_and_replayed(
    world, assert_ledger_invariants
):
    bad = [
        b"{not json",
        meta.encode(body(status("wamid.U1", "delivered"), phone_number_id="unknown-pnid")),
        meta.encode(body(status("wamid.U2", "delivered", category="astrology"))),
        meta.encode(body(status("wamid.U3", "delivered", category=None))),
        meta.encode(body({"status": "delivered"})),
    ]
    for raw in bad:
        response = await world.post(raw)
        assert response.status_code == 200 and response.json()["status"] == "DEAD"
    data = await world.admin.data(
        "{ webhookEvents(status: DEAD) { edges { node { id lastError payload } } } }"
    )
    dead = [edge["node"] for edge in data["webhookEvents"]["edges"]]
    errors = [e["lastError"] for e in reversed(dead)]
    assert errors[0] == "malformed JSON"
    assert "unknown phone_number_id unknown-pnid" in errors[1]
    assert "unknown category 'astrology'" in errors[2]
    assert "without pricing" in errors[3]
    assert "without id" in errors[4]
    assert await charges(world) == []
    body_partner = await world.partner.execute("{ webhookEvents { edges { node { id } } } }")
    assert body_partner["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # The channel is given the phone_number_id Meta used; the admin replays the event.
    dead_id = dead[-2]["id"]
    await Conversation.all().count()
    from backend.domain.models import Channel

    await Channel.filter(id=int(world.channel_id)).update(phone_number_id="unknown-pnid")
    replay = """mutation($id: ID!) { replayWebhookEvent(eventId: $id) { event { status attempts } userErrors { code } } }"""
    payload = await world.admin.mutate(replay, {"id": dead_id})
    assert payload["event"] == {"status": "PROCESSED", "attempts": 2}
    assert await charges(world) == [("wamid.U1", "-0.11")]
    await world.admin.mutate(replay, {"id": dead_id})  # replaying again charges nothing more
    assert await charges(world) == [("wamid.U1", "-0.11")]
    assert await world.partner.user_errors(replay, {"id": dead_id}) == ["FORBIDDEN"]
    await assert_ledger_invariants()


async def test_capability_updates_set_the_messaging_tier(world):
    await world.post(meta.capability_update(10000))
    data = await world.partner.data(
        "query($id: ID!) { channel(id: $id) { messagingTier } }", {"id": world.channel_id}
    )
    assert data["channel"]["messagingTier"] == "TIER_10K"
    await world.post(meta.capability_update(2000))
    data = await world.partner.data(
        "query($id: ID!) { channel(id: $id) { messagingTier } }", {"id": world.channel_id}
    )
    assert data["channel"]["messagingTier"] == "TIER_2K"


async def test_a_charge_is_posted_past_the_credit_limit_with_a_low_balance_alert(
    world, assert_ledger_invariants
):
    await world.partner.mutate(
        """mutation($w: ID!) { setLowBalanceThreshold(walletId: $w, threshold: "1") { userErrors { code } } }""",
        {"w": world.wallet_id},
    )
    await world.partner.mutate(
        """mutation($w: ID!) { adjustWallet(walletId: $w, amount: "-99.95", comment: "spent") { userErrors { code } } }""",
        {"w": world.wallet_id},
    )
    await world.post(body(status("wamid.O1", "delivered")))
    assert await balance(world) == "-0.06"
    alerts = (await world.partner.data("{ alerts { kind walletId resolvedAt } }"))["alerts"]
    assert alerts == [{"kind": "LOW_BALANCE", "walletId": world.wallet_id, "resolvedAt": None}]
    assert await LedgerEntry.filter(kind="CONVERSATION_CHARGE").count() == 1
    await assert_ledger_invariants()


async def test_a_stored_event_waiting_for_retry_is_processed_by_the_jobs_loop(world, frozen_clock):
    from backend.webhooks.processing import retry_due

    raw = meta.encode(body(status("wamid.T1", "delivered")))
    event = await WebhookEvent.create(
        partner_id=int(world.partner_id),
        body=raw.decode(),
        status="PENDING",
        attempts=1,
        last_error="ConnectionError: database restarting",
        received_at=frozen_clock.now(),
        next_attempt_at=frozen_clock.now(),
    )
    assert await retry_due() == 1
    await event.refresh_from_db()
    assert (event.status, event.attempts) == ("PROCESSED", 2)
    assert await charges(world) == [("wamid.T1", "-0.11")]
    assert await retry_due() == 0


async def test_recipients_that_are_not_phone_numbers_are_dead_letters(world):
    response = await world.post(body(status("wamid.N1", "delivered", "12")))
    assert response.json()["status"] == "DEAD"
    assert "is not a phone number" in response.json()["error"]
    assert await charges(world) == []


async def test_a_poison_body_is_a_dead_letter_and_stops_nobody_elses_retries(world, frozen_clock):
    """Security probe: a signed body nested 5,000 deep answered 500, stayed PENDING and
    made every jobs pass fail with RecursionError."""
    from backend.jobs import runner

    poison = b'{"entry": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = await world.post(poison)
    assert response.status_code == 200
    assert response.json()["status"] == "DEAD"
    deep_but_parseable = meta.encode(body(status("wamid.D1", "delivered")))[:-1] + (
        b', "x": ' + b"[" * 200 + b"]" * 200 + b"}"
    )
    response = await world.post(deep_but_parseable)
    assert response.json()["status"] == "DEAD"

    # A stored poison event due for a retry (as one kept from before this fix was),
    # and another partner's ordinary event due at the same time.
    for raw in (poison, meta.encode(body(status("wamid.P1", "delivered")))):
        await WebhookEvent.create(
            partner_id=int(world.partner_id),
            body=raw.decode(),
            status="PENDING",
            attempts=1,
            last_error="RecursionError",
            received_at=frozen_clock.now(),
            next_attempt_at=frozen_clock.now(),
        )
    report = await runner.run_once()
    assert report["webhook-retry"] == 2
    assert await WebhookEvent.filter(status="PENDING").count() == 0
    assert await charges(world) == [("wamid.P1", "-0.11")]

    data = await world.admin.data(
        "{ webhookEvents(status: DEAD) { edges { node { id status lastError payload } } } }"
    )
    dead = [edge["node"] for edge in data["webhookEvents"]["edges"]]
    assert len(dead) == 3
    assert all(e["payload"] is None for e in dead)
    assert {e["lastError"] for e in dead} == {"JSON nested deeper than 64 levels"}
    replay = await world.admin.mutate(
        "mutation($id: ID!) { replayWebhookEvent(eventId: $id) { event { status } userErrors { code } } }",
        {"id": dead[0]["id"]},
    )
    assert replay["event"]["status"] == "DEAD"


async def test_text_no_database_can_store_is_a_dead_letter_at_once(world):
    """Probe (after issue 12's list): a signed status id holding a NUL failed on PostgreSQL
    at every retry; a lone surrogate fails every encoding."""
    for n, poison in enumerate(("wamid.\u0000N", "wamid.\ud800S")):
        raw = json.dumps(body(status(poison, "delivered"))).encode()  # escapes, as Meta would send
        response = await world.post(raw)
        assert response.status_code == 200
        assert response.json()["status"] == "DEAD", response.json()
        assert "NUL character or a lone surrogate" in response.json()["error"]
        event = await WebhookEvent.get(id=response.json()["event"])
        assert (event.status, event.attempts) == ("DEAD", 1), n
    assert await charges(world) == []


async def test_a_raw_nul_byte_is_kept_as_a_dead_letter_not_a_500(world):
    """Probe: a signed body with a raw NUL byte answered 500 on PostgreSQL (text refuses NUL)."""
    raw = b'{"object": "whatsapp_business_account", "entry": "\x00"}'
    response = await world.post(raw)
    assert response.status_code == 200
    assert response.json()["status"] == "DEAD"
    event = await WebhookEvent.get(id=response.json()["event"])
    assert event.body == raw.decode().replace("\x00", "\ufffd")
