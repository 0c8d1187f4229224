"""Holds under retries, replays, races and time: regression tests from review."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from backend.domain.holds import expire_holds
from backend.domain.models import Hold
from tests.factories import TOP_UP, phone
from tests.webhooks.meta import body, status
from tests.webhooks.test_broadcast_holds import AUTHORIZE, germans, money


async def test_a_resent_failure_does_not_release_a_newer_holds_share(world):
    recipient = phone(7)
    first = await world.partner.mutate(
        AUTHORIZE, {"c": world.channel_id, "cat": "MARKETING", "r": [recipient]}
    )
    failed = body(status("wamid.RF1", "failed", recipient.lstrip("+")))
    await world.post(failed)
    assert await money(world) == ("100.00", "100.00")
    second = await world.partner.mutate(
        AUTHORIZE, {"c": world.channel_id, "cat": "MARKETING", "r": [recipient]}
    )
    await world.post(failed)  # Meta resends the same failure
    assert await money(world) == ("100.00", "99.89")  # the new reservation stands
    held = await Hold.get(id=int(second["hold"]["id"]))
    assert held.remaining_micros == 110_000 and held.status == "ACTIVE"
    assert (await Hold.get(id=int(first["hold"]["id"]))).status == "RELEASED"


async def test_a_free_service_reply_does_not_capture_a_marketing_share(world):
    recipient = phone(8)
    await world.partner.mutate(
        AUTHORIZE, {"c": world.channel_id, "cat": "MARKETING", "r": [recipient]}
    )
    service = status(
        "wamid.SV1",
        "delivered",
        recipient.lstrip("+"),
        category="service",
        price_type="free_customer_service",
    )
    await world.post(body(service))
    assert await money(world) == ("100.00", "99.89")


async def test_the_tier_counts_a_rolling_24_hours(world, frozen_clock):
    await world.partner.mutate(
        AUTHORIZE, {"c": world.channel_id, "cat": "MARKETING", "r": germans(250)}
    )
    assert await world.partner.user_errors(
        AUTHORIZE, {"c": world.channel_id, "cat": "MARKETING", "r": germans(1, start=500)}
    ) == ["TIER_LIMIT_EXCEEDED"]
    frozen_clock.advance(timedelta(hours=25))
    await expire_holds()
    payload = await world.partner.mutate(
        AUTHORIZE, {"c": world.channel_id, "cat": "MARKETING", "r": germans(250, start=500)}
    )
    assert payload["hold"]["recipients"] == 250


async def test_two_broadcasts_at_once_cannot_both_pass_the_tier(world):
    a = {"c": world.channel_id, "cat": "MARKETING", "r": germans(200)}
    b = {"c": world.channel_id, "cat": "MARKETING", "r": germans(200, start=300)}
    bodies = await asyncio.gather(
        world.partner.execute(AUTHORIZE, a), world.partner.execute(AUTHORIZE, b)
    )
    outcomes = sorted(
        tuple(e["code"] for e in body_["data"]["authorizeBroadcast"]["userErrors"])
        for body_ in bodies
    )
    assert outcomes == [(), ("TIER_LIMIT_EXCEEDED",)]


async def test_releasing_a_hold_while_its_charges_arrive(world):
    recipients = germans(40, start=600)
    payload = await world.partner.mutate(
        AUTHORIZE, {"c": world.channel_id, "cat": "MARKETING", "r": recipients}
    )
    release = (
        "mutation($h: ID!) { releaseHold(holdId: $h) { hold { status } userErrors { code } } }"
    )
    deliveries = body(
        *(status(f"wamid.D{n}", "delivered", r.lstrip("+")) for n, r in enumerate(recipients))
    )
    released, delivered = await asyncio.gather(
        world.partner.execute(release, {"h": payload["hold"]["id"]}), world.post(deliveries)
    )
    assert not released.get("errors"), released
    assert delivered.status_code == 200 and delivered.json()["status"] == "PROCESSED"
    balance, available = await money(world)
    assert balance == available == "95.60"  # 40 x 0.11 charged, nothing left reserved


async def test_keyless_movements_keep_the_low_balance_alert_true(world):
    await world.partner.mutate(
        """mutation($w: ID!) { setLowBalanceThreshold(walletId: $w, threshold: "99.5") { userErrors { code } } }""",
        {"w": world.wallet_id},
    )
    charge = """mutation($w: ID!) { chargeIntegration(walletId: $w, amount: "1", comment: "x") { userErrors { code } } }"""
    for _ in range(10):
        await asyncio.gather(
            world.partner.execute(charge, {"w": world.wallet_id}),
            world.partner.execute(TOP_UP, {"walletId": world.wallet_id, "amount": "1"}),
        )
        balance, _ = await money(world)
        data = await world.partner.data("{ alerts { kind resolvedAt } }")
        open_alerts = [
            a for a in data["alerts"] if a["kind"] == "LOW_BALANCE" and not a["resolvedAt"]
        ]
        assert len(open_alerts) == (1 if Decimal(balance) < Decimal("99.5") else 0)
