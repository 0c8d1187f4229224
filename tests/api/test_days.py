"""The partner day balance: purchases, threshold and billing history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.domain.models import DayEntry, Partner
from tests.factories import PURCHASE_DAYS, make_tenant

HISTORY = """query($id: ID!, $kind: DayEntryKind, $since: DateTime, $until: DateTime) {
  partner(id: $id) { dayBalance dayEntries(kind: $kind, since: $since, until: $until) {
    totalCount edges { node { kind days dayBalanceAfter comment } } } } }"""


async def test_purchases_build_a_billing_history(admin, frozen_clock, assert_ledger_invariants):
    t = await make_tenant(admin)
    first = await admin.mutate(
        PURCHASE_DAYS, {"partnerId": t.partner_id, "days": 150, "comment": "Order #1"}
    )
    assert first["entry"] == {
        "id": first["entry"]["id"],
        "kind": "PURCHASE",
        "days": 150,
        "dayBalanceAfter": 150,
        "comment": "Order #1",
    }
    frozen_clock.advance(timedelta(days=10))
    second = await admin.mutate(
        PURCHASE_DAYS, {"partnerId": t.partner_id, "days": 30, "comment": "Order #2"}
    )
    assert second["partner"]["dayBalance"] == 180

    data = await t.partner.data(HISTORY, {"id": t.partner_id})
    nodes = [e["node"] for e in data["partner"]["dayEntries"]["edges"]]
    assert [(n["days"], n["dayBalanceAfter"], n["comment"]) for n in nodes] == [
        (30, 180, "Order #2"),
        (150, 150, "Order #1"),
    ]
    since = (frozen_clock.now() - timedelta(days=1)).isoformat()
    data = await t.partner.data(HISTORY, {"id": t.partner_id, "since": since, "kind": "PURCHASE"})
    assert data["partner"]["dayEntries"]["totalCount"] == 1
    await assert_ledger_invariants()


@pytest.mark.parametrize(
    ("days", "comment", "code"),
    [
        (0, "x", "INVALID_DAYS"),
        (-5, "x", "INVALID_DAYS"),
        (1_000_001, "x", "INVALID_DAYS"),
        (10, "", "INVALID_COMMENT"),
        (10, "   ", "INVALID_COMMENT"),
        (10, "y" * 501, "INVALID_COMMENT"),
    ],
)
async def test_bad_purchases_change_nothing(admin, days, comment, code):
    t = await make_tenant(admin)
    assert await admin.user_errors(
        PURCHASE_DAYS, {"partnerId": t.partner_id, "days": days, "comment": comment}
    ) == [code]
    assert (await Partner.get(id=int(t.partner_id))).day_balance == 0
    assert await DayEntry.all().count() == 0


async def test_non_integer_days_are_a_graphql_error(admin):
    t = await make_tenant(admin)
    body = await admin.execute(
        'mutation($p: ID!) { purchaseDays(partnerId: $p, days: 2.5, comment: "x") { userErrors { code } } }',
        {"p": t.partner_id},
    )
    assert body["errors"] and "Int" in body["errors"][0]["message"]
    assert await DayEntry.all().count() == 0


async def test_only_admin_records_purchases(admin):
    t = await make_tenant(admin)
    variables = {"partnerId": t.partner_id, "days": 10, "comment": "self-service"}
    assert await t.partner.user_errors(PURCHASE_DAYS, variables) == ["FORBIDDEN"]
    assert await t.customer.user_errors(PURCHASE_DAYS, variables) == ["FORBIDDEN"]
    assert await admin.user_errors(PURCHASE_DAYS, {**variables, "partnerId": "777"}) == [
        "NOT_FOUND"
    ]
    assert await DayEntry.all().count() == 0


async def test_purchase_idempotency(admin):
    t = await make_tenant(admin)
    variables = {"partnerId": t.partner_id, "days": 10, "comment": "Order 9", "key": "order-9"}
    first = await admin.mutate(PURCHASE_DAYS, variables)
    again = await admin.mutate(PURCHASE_DAYS, variables)
    assert again["replayed"] is True and first["replayed"] is False
    assert again["entry"]["id"] == first["entry"]["id"]
    assert await admin.user_errors(PURCHASE_DAYS, {**variables, "days": 11}) == [
        "IDEMPOTENCY_KEY_REUSED"
    ]
    assert (await Partner.get(id=int(t.partner_id))).day_balance == 10


async def test_low_days_threshold(admin):
    t = await make_tenant(admin)
    query = """mutation($p: ID!, $d: Int) { setLowDaysThreshold(partnerId: $p, days: $d) {
                 partner { lowDaysThreshold } userErrors { code } } }"""
    assert (await t.partner.mutate(query, {"p": t.partner_id, "d": 20}))["partner"] == {
        "lowDaysThreshold": 20
    }
    assert (await admin.mutate(query, {"p": t.partner_id, "d": None}))["partner"] == {
        "lowDaysThreshold": None
    }
    assert await t.partner.user_errors(query, {"p": t.partner_id, "d": -1}) == ["INVALID_DAYS"]
    assert await t.customer.user_errors(query, {"p": t.partner_id, "d": 5}) == ["FORBIDDEN"]
