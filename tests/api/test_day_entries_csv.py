"""The billing history as CSV, behind the same key and tenant rules."""

from __future__ import annotations

import csv
import io

from tests.factories import EXTEND, PURCHASE_DAYS, make_channel, make_tenant


async def test_csv_export_with_filters(http, admin, frozen_clock):
    t = await make_tenant(admin)
    await admin.mutate(
        PURCHASE_DAYS, {"partnerId": t.partner_id, "days": 30, "comment": 'Order, "big"'}
    )
    one = await make_channel(t.partner, t.customer_id, 300)
    two = await make_channel(t.partner, t.customer_id, 301)
    await t.partner.mutate(EXTEND, {"id": one["id"], "days": 5, "comment": "one"})
    await t.partner.mutate(EXTEND, {"id": two["id"], "days": 7, "comment": "two"})
    headers = {"Authorization": f"Bearer {t.partner.key}"}

    response = await http.get(f"/partners/{t.partner_id}/day-entries.csv", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["kind"], r["days"], r["day_balance_after"], r["comment"]) for r in rows] == [
        ("ALLOCATION", "-7", "18", "two"),
        ("ALLOCATION", "-5", "25", "one"),
        ("PURCHASE", "30", "30", 'Order, "big"'),
    ]
    response = await http.get(
        f"/partners/{t.partner_id}/day-entries.csv",
        params={"channelId": one["id"], "kind": "ALLOCATION"},
        headers=headers,
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["channel_id"], r["days"]) for r in rows] == [(one["id"], "-5")]


async def test_csv_refuses_strangers_and_bad_filters(http, admin):
    a = await make_tenant(admin, "A")
    b = await make_tenant(admin, "B")
    url = f"/partners/{b.partner_id}/day-entries.csv"
    assert (await http.get(url)).status_code == 401
    assert (
        await http.get(url, headers={"Authorization": f"Bearer {a.partner.key}"})
    ).status_code == 404
    assert (
        await http.get(url, headers={"Authorization": f"Bearer {b.customer.key}"})
    ).status_code == 403
    own = {"Authorization": f"Bearer {b.partner.key}"}
    assert (await http.get(url, params={"kind": "BOGUS"}, headers=own)).status_code == 400
    assert (await http.get(url, params={"since": "yesterday"}, headers=own)).status_code == 400
    assert (
        await http.get(url, params={"since": "2026-01-01T00:00:00"}, headers=own)
    ).status_code == 400
    assert (await http.get(url, headers=own)).status_code == 200
