"""Rule 4 for days: simultaneous extensions never allocate days the partner does not have."""

from __future__ import annotations

import asyncio
import itertools

from backend.domain.models import ChannelLot, DayEntry, Partner
from tests.factories import EXTEND, EXTEND_MANY, PURCHASE_DAYS, make_channel, make_tenant


async def test_50_concurrent_extensions_with_days_for_30(admin, assert_ledger_invariants):
    t = await make_tenant(admin)
    channels = [await make_channel(t.partner, t.customer_id, 100 + n) for n in range(50)]
    await admin.mutate(PURCHASE_DAYS, {"partnerId": t.partner_id, "days": 150, "comment": "stock"})

    async def extend(channel: dict) -> dict:
        body = await t.partner.execute(
            EXTEND, {"id": channel["id"], "days": 5, "comment": "every 5 days"}
        )
        assert not body.get("errors"), body
        return body["data"]["extendChannel"]

    results = await asyncio.gather(*(extend(c) for c in channels))
    succeeded = [r for r in results if not r["userErrors"]]
    refused = [r for r in results if r["userErrors"]]
    assert len(succeeded) == 30
    assert {e["code"] for r in refused for e in r["userErrors"]} == {"INSUFFICIENT_DAYS"}
    assert (await Partner.get(id=int(t.partner_id))).day_balance == 0
    assert await DayEntry.filter(partner_id=int(t.partner_id), kind="ALLOCATION").count() == 30
    assert await ChannelLot.filter(partner_id=int(t.partner_id)).count() == 30
    await assert_ledger_invariants()


async def test_overlapping_bulk_extensions_stay_exact(admin, assert_ledger_invariants):
    """Bulk calls sharing channels lock them in id order: no deadlock, no lost days."""
    t = await make_tenant(admin)
    channels = [await make_channel(t.partner, t.customer_id, 200 + n) for n in range(10)]
    await admin.mutate(PURCHASE_DAYS, {"partnerId": t.partner_id, "days": 1000, "comment": "stock"})
    forward = [{"channelId": c["id"], "days": 1} for c in channels]
    backward = list(reversed(forward))
    bodies = await asyncio.gather(
        *(
            t.partner.execute(EXTEND_MANY, {"items": items, "comment": f"run {n}"})
            for n, items in enumerate([forward, backward] * 10)
        )
    )
    assert all(b["data"]["extendChannels"]["userErrors"] == [] for b in bodies)
    assert (await Partner.get(id=int(t.partner_id))).day_balance == 1000 - 20 * 10
    lots = await ChannelLot.filter(partner_id=int(t.partner_id)).order_by("channel_id", "starts_at")
    # Every channel's lots follow one another without gap or overlap.
    by_channel: dict[int, list] = {}
    for lot in lots:
        by_channel.setdefault(lot.channel_id, []).append(lot)
    for channel_lots in by_channel.values():
        assert len(channel_lots) == 20
        for earlier, later in itertools.pairwise(channel_lots):
            assert later.starts_at == earlier.ends_at
    await assert_ledger_invariants()
