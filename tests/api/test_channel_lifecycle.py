"""A channel's whole life under a controlled clock, with the expiry job and alerts."""

from __future__ import annotations

from datetime import timedelta

from backend.domain.models import ChannelLot, JobLease
from backend.jobs import runner
from backend.jobs.expiry import run_expiry
from tests.factories import (
    CHANNEL,
    DELETE_CHANNEL,
    EXTEND,
    PURCHASE_DAYS,
    day_balance,
    make_channel,
    make_customer,
    make_partner,
)

ALERTS = "{ alerts { kind message channelId partnerId resolvedAt } }"


async def alerts_of(client, kind=None):
    data = await client.data(ALERTS)
    return [a for a in data["alerts"] if kind is None or a["kind"] == kind]


async def test_trial_lapse_expiry_extension_use_delete_refund(
    admin, frozen_clock, assert_ledger_invariants
):
    partner_id, partner = await make_partner(admin, trial=True)
    customer_id, _, customer = await make_customer(partner, partner_id)
    await admin.mutate(PURCHASE_DAYS, {"partnerId": partner_id, "days": 40, "comment": "Order 1"})
    channel = await make_channel(partner, customer_id, 40, trial=True)
    cid = channel["id"]

    # Day 2 of 5: nothing to say yet. Day 3: 2 days left -> one CHANNEL_EXPIRING.
    frozen_clock.advance(timedelta(days=1))
    await run_expiry()
    assert await alerts_of(partner) == []
    frozen_clock.advance(timedelta(days=2))
    await run_expiry()
    await run_expiry()  # a second pass warns no more
    expiring = await alerts_of(partner, "CHANNEL_EXPIRING")
    assert len(expiring) == 1 and expiring[0]["channelId"] == cid
    # The customer sees its own channel's alert too.
    assert len(await alerts_of(customer, "CHANNEL_EXPIRING")) == 1

    # The trial lapses: the job marks it EXPIRED and says so once.
    frozen_clock.advance(timedelta(days=2, seconds=1))
    report = await run_expiry()
    assert report.expired == 1
    await run_expiry()
    assert len(await alerts_of(partner, "CHANNEL_EXPIRED")) == 1
    data = await partner.data(CHANNEL, {"id": cid})
    assert data["channel"]["status"] == "EXPIRED" and data["channel"]["daysRemaining"] == 0

    # Extended: ACTIVE again from now; the expiry alerts are resolved.
    payload = await partner.mutate(EXTEND, {"id": cid, "days": 30, "comment": "Paid plan"})
    assert payload["channel"]["status"] == "ACTIVE"
    assert all(a["resolvedAt"] for a in await alerts_of(partner))

    # 12 days and 6 hours of use, then deleted: 17 whole unused days come back, trial days never.
    frozen_clock.advance(timedelta(days=12, hours=6))
    preview = await partner.data(
        "query($id: ID!) { channel(id: $id) { refundableDays } }", {"id": cid}
    )
    assert preview["channel"]["refundableDays"] == 17  # what the delete dialog shows
    deleted = await partner.mutate(DELETE_CHANNEL, {"id": cid, "comment": "Customer left"})
    assert deleted["dayEntry"]["days"] == 17
    after = await partner.data(
        "query($id: ID!) { channel(id: $id) { refundableDays } }", {"id": cid}
    )
    assert after["channel"]["refundableDays"] == 0
    assert await day_balance(partner, partner_id) == 40 - 30 + 17
    lots = await ChannelLot.filter(channel_id=int(cid)).order_by("id")
    assert [(lot.kind, lot.days, lot.refunded_days) for lot in lots] == [
        ("TRIAL", 5, 0),
        ("PAID", 30, 17),
    ]
    history = await partner.data(
        """query($id: ID!, $c: ID) { partner(id: $id) { dayEntries(channelId: $c) {
             edges { node { kind days comment } } } } }""",
        {"id": partner_id, "c": cid},
    )
    assert [e["node"]["kind"] for e in history["partner"]["dayEntries"]["edges"]] == [
        "REFUND",
        "ALLOCATION",
        "TRIAL",
    ]
    await assert_ledger_invariants()


async def test_low_days_fires_once_per_crossing_and_resolves(admin, frozen_clock):
    partner_id, partner = await make_partner(admin)
    customer_id, _, _ = await make_customer(partner, partner_id)
    await admin.mutate(PURCHASE_DAYS, {"partnerId": partner_id, "days": 30, "comment": "stock"})
    await partner.mutate(
        "mutation($p: ID!) { setLowDaysThreshold(partnerId: $p, days: 20) { userErrors { code } } }",
        {"p": partner_id},
    )
    channels = [await make_channel(partner, customer_id, 50 + n) for n in range(3)]
    await partner.mutate(EXTEND, {"id": channels[0]["id"], "days": 5, "comment": "x"})  # 25
    assert await alerts_of(partner, "LOW_DAYS") == []
    await partner.mutate(
        EXTEND, {"id": channels[1]["id"], "days": 6, "comment": "x"}
    )  # 19: crossing
    await partner.mutate(
        EXTEND, {"id": channels[2]["id"], "days": 4, "comment": "x"}
    )  # 15: still low
    low = await alerts_of(partner, "LOW_DAYS")
    assert len(low) == 1 and low[0]["resolvedAt"] is None and low[0]["partnerId"] == partner_id
    await admin.mutate(PURCHASE_DAYS, {"partnerId": partner_id, "days": 10, "comment": "refill"})
    assert (await alerts_of(partner, "LOW_DAYS"))[0]["resolvedAt"] is not None
    await partner.mutate(EXTEND, {"id": channels[0]["id"], "days": 10, "comment": "x"})  # 15 again
    low = await alerts_of(partner, "LOW_DAYS")
    assert len(low) == 2 and low[0]["resolvedAt"] is None


async def test_raising_the_threshold_above_the_balance_is_a_crossing(admin):
    partner_id, partner = await make_partner(admin)
    await admin.mutate(PURCHASE_DAYS, {"partnerId": partner_id, "days": 10, "comment": "stock"})
    query = "mutation($p: ID!, $d: Int) { setLowDaysThreshold(partnerId: $p, days: $d) { userErrors { code } } }"
    await partner.mutate(query, {"p": partner_id, "d": 50})
    assert len(await alerts_of(partner, "LOW_DAYS")) == 1
    await partner.mutate(query, {"p": partner_id, "d": None})
    assert (await alerts_of(partner, "LOW_DAYS"))[0]["resolvedAt"] is not None


async def test_alerts_are_tenant_scoped(admin, frozen_clock):
    a_id, a = await make_partner(admin, "A", trial=True)
    _, b = await make_partner(admin, "B", trial=True)
    a_customer, _, _ = await make_customer(a, a_id)
    await make_channel(a, a_customer, 60, trial=True)
    frozen_clock.advance(timedelta(days=4))
    await run_expiry()
    assert len(await alerts_of(a)) == 1
    assert await alerts_of(b) == []
    assert len(await alerts_of(admin)) == 1


async def test_one_job_runner_at_a_time(db, frozen_clock):
    assert await runner.take_lease("channel-expiry", "worker-1")
    assert not await runner.take_lease("channel-expiry", "worker-2")
    assert await runner.take_lease("channel-expiry", "worker-1")  # renewing its own
    report = await runner.run_once("worker-2")
    assert report["channel-expiry"] == "held by another runner"
    assert report["hold-expiry"] == 0  # other jobs have leases of their own
    # A holder that died: its lease runs out and another worker takes over.
    frozen_clock.advance(runner.LEASE + timedelta(seconds=1))
    report = await runner.run_once("worker-2")
    assert report["channel-expiry"].expired == 0
    assert await JobLease.filter(name="channel-expiry").count() == 0  # released after the pass
