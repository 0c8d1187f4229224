"""Channels and the day allocation, as a partner would use them, through GraphQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.domain.models import Channel, ChannelLot, DayEntry, Partner
from tests.factories import (
    CHANNEL,
    CREATE_CHANNEL,
    DELETE_CHANNEL,
    EXTEND,
    EXTEND_MANY,
    PURCHASE_DAYS,
    day_balance,
    make_channel,
    make_customer,
    make_partner,
    make_tenant,
    phone,
)


async def stock(admin, partner_id: str, days: int) -> None:
    await admin.mutate(PURCHASE_DAYS, {"partnerId": partner_id, "days": days, "comment": "stock"})


async def state(partner_id: str) -> tuple:
    """Everything a refused call must leave untouched."""
    partner = await Partner.get(id=int(partner_id))
    channels = (
        await Channel.filter(partner_id=int(partner_id))
        .order_by("id")
        .values_list(
            "id", "status", "active_until", "phone_number", "phone_number_id", "messaging_tier"
        )
    )
    return (
        partner.day_balance,
        tuple(channels),
        await DayEntry.filter(partner_id=int(partner_id)).count(),
        await ChannelLot.filter(partner_id=int(partner_id)).count(),
    )


async def test_a_new_channel_is_pending_with_its_number_normalised(admin, frozen_clock):
    t = await make_tenant(admin)
    payload = await t.partner.mutate(
        CREATE_CHANNEL,
        {"c": t.customer_id, "name": "Support", "phone": "+1 (415) 555-2671", "pid": "10987"},
    )
    assert payload["channel"] == {
        "id": payload["channel"]["id"],
        "name": "Support",
        "phoneNumber": "+14155552671",
        "phoneNumberId": "10987",
        "status": "PENDING",
        "activeUntil": None,
        "daysRemaining": 0,
        "messagingTier": "TIER_250",
    }
    assert payload["dayEntry"] is None


async def test_free_trial_for_an_eligible_partner(admin, frozen_clock, assert_ledger_invariants):
    partner_id, partner = await make_partner(admin, trial=True)
    customer_id, _, _ = await make_customer(partner, partner_id)
    payload = await partner.mutate(
        CREATE_CHANNEL, {"c": customer_id, "name": "Sales", "phone": phone(1), "trial": True}
    )
    assert payload["channel"]["status"] == "TRIAL"
    assert payload["channel"]["daysRemaining"] == 5
    assert payload["channel"]["activeUntil"] == (frozen_clock.now() + timedelta(days=5)).isoformat()
    assert payload["dayEntry"]["kind"] == "TRIAL" and payload["dayEntry"]["days"] == 0
    assert await day_balance(partner, partner_id) == 0
    await assert_ledger_invariants()


async def test_a_trial_without_eligibility_must_be_funded(
    admin, frozen_clock, assert_ledger_invariants
):
    t = await make_tenant(admin)
    await stock(admin, t.partner_id, 20)
    before = await state(t.partner_id)
    variables = {"c": t.customer_id, "name": "Sales", "phone": phone(2), "trial": True}
    assert await t.partner.user_errors(CREATE_CHANNEL, variables) == ["TRIAL_NOT_ELIGIBLE"]
    assert await state(t.partner_id) == before
    payload = await t.partner.mutate(CREATE_CHANNEL, {**variables, "fund": True})
    assert payload["channel"]["status"] == "TRIAL"
    assert payload["dayEntry"]["kind"] == "TRIAL_FUNDED"
    assert payload["dayEntry"]["days"] == -5 and payload["dayEntry"]["dayBalanceAfter"] == 15
    await assert_ledger_invariants()


async def test_one_trial_per_phone_number_ever(admin, frozen_clock):
    partner_id, partner = await make_partner(admin, trial=True)
    customer_id, _, _ = await make_customer(partner, partner_id)
    first = await make_channel(partner, customer_id, 3, trial=True)
    await partner.mutate(DELETE_CHANNEL, {"id": first["id"], "comment": "customer left"})
    variables = {"c": customer_id, "name": "Again", "phone": phone(3), "trial": True}
    before = await state(partner_id)
    assert await partner.user_errors(CREATE_CHANNEL, variables) == ["TRIAL_ALREADY_USED"]
    assert await state(partner_id) == before
    # Without a trial the number may come back.
    again = await partner.mutate(CREATE_CHANNEL, {**variables, "trial": False})
    assert again["channel"]["status"] == "PENDING"


async def test_a_number_belongs_to_one_live_channel(admin):
    t = await make_tenant(admin)
    first = await make_channel(t.partner, t.customer_id, 4, pid="555")
    before = await state(t.partner_id)
    assert await t.partner.user_errors(
        CREATE_CHANNEL, {"c": t.customer_id, "name": "Copy", "phone": phone(4)}
    ) == ["PHONE_NUMBER_IN_USE"]
    assert await t.partner.user_errors(
        CREATE_CHANNEL, {"c": t.customer_id, "name": "Copy", "phone": phone(5), "pid": "555"}
    ) == ["PHONE_NUMBER_ID_IN_USE"]
    assert await state(t.partner_id) == before
    await t.partner.mutate(DELETE_CHANNEL, {"id": first["id"], "comment": "moved"})
    reused = await make_channel(t.partner, t.customer_id, 4, pid="555")
    assert reused["status"] == "PENDING"


@pytest.mark.parametrize(
    ("number", "pid", "code"),
    [
        ("12345", None, "INVALID_PHONE_NUMBER"),
        ("+1 555", None, "INVALID_PHONE_NUMBER"),
        ("abc", None, "INVALID_PHONE_NUMBER"),
        ("", None, "INVALID_PHONE_NUMBER"),
        ("+999 1234567", None, "INVALID_PHONE_NUMBER"),
        ("+4915112345678901234", None, "INVALID_PHONE_NUMBER"),
        ("+14155552671", "", "INVALID_ARGUMENT"),
        ("+14155552671", "id with spaces", "INVALID_ARGUMENT"),
    ],
)
async def test_bad_phone_numbers_are_refused(admin, number, pid, code):
    t = await make_tenant(admin)
    before = await state(t.partner_id)
    assert await t.partner.user_errors(
        CREATE_CHANNEL, {"c": t.customer_id, "name": "X", "phone": number, "pid": pid}
    ) == [code]
    assert await state(t.partner_id) == before


async def test_channels_of_another_tenant_are_not_found(admin):
    a = await make_tenant(admin, "A")
    b = await make_tenant(admin, "B")
    await stock(admin, a.partner_id, 10)
    theirs = await make_channel(b.partner, b.customer_id, 6)
    before = await state(a.partner_id), await state(b.partner_id)
    assert await a.partner.user_errors(
        CREATE_CHANNEL, {"c": b.customer_id, "name": "X", "phone": phone(7)}
    ) == ["NOT_FOUND"]
    assert await a.partner.user_errors(EXTEND, {"id": theirs["id"], "days": 1, "comment": "x"}) == [
        "NOT_FOUND"
    ]
    assert await a.partner.user_errors(DELETE_CHANNEL, {"id": theirs["id"], "comment": "x"}) == [
        "NOT_FOUND"
    ]
    body = await a.partner.execute(CHANNEL, {"id": theirs["id"]})
    assert body["data"]["channel"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await state(a.partner_id), await state(b.partner_id)) == before


@pytest.mark.parametrize(
    ("days", "comment", "code"),
    [
        (0, "x", "INVALID_DAYS"),
        (-3, "x", "INVALID_DAYS"),
        (3651, "x", "INVALID_DAYS"),
        (5, "", "INVALID_COMMENT"),
        (5, "   ", "INVALID_COMMENT"),
        (5, "c" * 501, "INVALID_COMMENT"),
        (11, "more than the balance", "INSUFFICIENT_DAYS"),
    ],
)
async def test_bad_extensions_change_nothing(admin, days, comment, code):
    t = await make_tenant(admin)
    await stock(admin, t.partner_id, 10)
    channel = await make_channel(t.partner, t.customer_id, 8)
    before = await state(t.partner_id)
    assert await t.partner.user_errors(
        EXTEND, {"id": channel["id"], "days": days, "comment": comment}
    ) == [code]
    assert await state(t.partner_id) == before


async def test_who_may_extend(admin):
    t = await make_tenant(admin)
    await stock(admin, t.partner_id, 10)
    channel = await make_channel(t.partner, t.customer_id, 9)
    before = await state(t.partner_id)
    assert await t.customer.user_errors(
        EXTEND, {"id": channel["id"], "days": 1, "comment": "x"}
    ) == ["FORBIDDEN"]
    body = await t.partner.execute(
        'mutation($id: ID!) { extendChannel(channelId: $id, days: 1.5, comment: "x") { userErrors { code } } }',
        {"id": channel["id"]},
    )
    assert body["errors"] and "Int" in body["errors"][0]["message"]
    assert await state(t.partner_id) == before
    # The platform may extend on the partner's behalf, from the partner's days.
    payload = await admin.mutate(EXTEND, {"id": channel["id"], "days": 2, "comment": "support"})
    assert payload["dayEntry"]["dayBalanceAfter"] == 8


async def test_extension_arithmetic_and_history(admin, frozen_clock, assert_ledger_invariants):
    t = await make_tenant(admin)
    await stock(admin, t.partner_id, 100)
    channel = await make_channel(t.partner, t.customer_id, 10)
    now = frozen_clock.now()
    first = await t.partner.mutate(EXTEND, {"id": channel["id"], "days": 30, "comment": "March"})
    assert first["channel"]["status"] == "ACTIVE"
    assert first["channel"]["activeUntil"] == (now + timedelta(days=30)).isoformat()
    assert first["dayEntry"] == {
        "id": first["dayEntry"]["id"],
        "kind": "ALLOCATION",
        "days": -30,
        "dayBalanceAfter": 70,
        "comment": "March",
        "channel": {"id": channel["id"]},
    }
    frozen_clock.advance(timedelta(days=10))
    # Still active: the days are added to the end, not to today.
    second = await t.partner.mutate(EXTEND, {"id": channel["id"], "days": 5, "comment": "top"})
    assert second["channel"]["activeUntil"] == (now + timedelta(days=35)).isoformat()
    assert second["channel"]["daysRemaining"] == 25
    await assert_ledger_invariants()


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (datetime(2026, 1, 31, 9, 30, tzinfo=UTC), 30, datetime(2026, 3, 2, 9, 30, tzinfo=UTC)),
        (datetime(2028, 1, 31, 9, 30, tzinfo=UTC), 30, datetime(2028, 3, 1, 9, 30, tzinfo=UTC)),
        (datetime(2028, 2, 28, 23, 0, tzinfo=UTC), 1, datetime(2028, 2, 29, 23, 0, tzinfo=UTC)),
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), 1, datetime(2027, 1, 1, 23, 59, tzinfo=UTC)),
        (datetime(2026, 4, 30, 0, 0, tzinfo=UTC), 365, datetime(2027, 4, 30, 0, 0, tzinfo=UTC)),
    ],
)
async def test_day_arithmetic_at_month_ends_and_leap_days(
    admin, frozen_clock, start, days, expected
):
    frozen_clock.set(start)
    t = await make_tenant(admin)
    await stock(admin, t.partner_id, 400)
    channel = await make_channel(t.partner, t.customer_id, 11)
    payload = await t.partner.mutate(EXTEND, {"id": channel["id"], "days": days, "comment": "x"})
    assert payload["channel"]["activeUntil"] == expected.isoformat()
    assert payload["channel"]["daysRemaining"] == days


async def test_extending_a_channel_with_hours_left(admin, frozen_clock):
    t = await make_tenant(admin)
    await stock(admin, t.partner_id, 10)
    channel = await make_channel(t.partner, t.customer_id, 12)
    await t.partner.mutate(EXTEND, {"id": channel["id"], "days": 1, "comment": "x"})
    frozen_clock.advance(timedelta(hours=19))  # 5 hours left
    assert (await t.partner.data(CHANNEL, {"id": channel["id"]}))["channel"]["daysRemaining"] == 0
    payload = await t.partner.mutate(EXTEND, {"id": channel["id"], "days": 1, "comment": "x"})
    assert payload["channel"]["daysRemaining"] == 1  # 29 hours: one whole day
    assert (
        payload["channel"]["activeUntil"] == (frozen_clock.now() + timedelta(hours=29)).isoformat()
    )


async def test_an_expired_channel_restarts_from_now(admin, frozen_clock):
    t = await make_tenant(admin)
    await stock(admin, t.partner_id, 10)
    channel = await make_channel(t.partner, t.customer_id, 13)
    await t.partner.mutate(EXTEND, {"id": channel["id"], "days": 2, "comment": "x"})
    frozen_clock.advance(timedelta(days=7))
    assert (await t.partner.data(CHANNEL, {"id": channel["id"]}))["channel"]["status"] == "EXPIRED"
    payload = await t.partner.mutate(EXTEND, {"id": channel["id"], "days": 3, "comment": "back"})
    assert payload["channel"]["status"] == "ACTIVE"
    assert payload["channel"]["activeUntil"] == (frozen_clock.now() + timedelta(days=3)).isoformat()


async def test_delete_refunds_unused_whole_paid_days_once(
    admin, frozen_clock, assert_ledger_invariants
):
    t = await make_tenant(admin)
    await stock(admin, t.partner_id, 50)
    channel = await make_channel(t.partner, t.customer_id, 14)
    await t.partner.mutate(EXTEND, {"id": channel["id"], "days": 10, "comment": "x"})
    await t.partner.mutate(EXTEND, {"id": channel["id"], "days": 5, "comment": "y"})
    frozen_clock.advance(timedelta(days=3, hours=12))  # 11.5 days left
    payload = await t.partner.mutate(DELETE_CHANNEL, {"id": channel["id"], "comment": "Churned"})
    assert payload["channel"] == {"id": channel["id"], "status": "DELETED", "daysRemaining": 0}
    assert payload["dayEntry"]["kind"] == "REFUND"
    assert payload["dayEntry"]["days"] == 11
    assert payload["dayEntry"]["dayBalanceAfter"] == 46
    assert payload["dayEntry"]["comment"] == "Churned"
    before = await state(t.partner_id)
    assert await t.partner.user_errors(
        DELETE_CHANNEL, {"id": channel["id"], "comment": "again"}
    ) == ["CHANNEL_DELETED"]
    assert await t.partner.user_errors(
        EXTEND, {"id": channel["id"], "days": 1, "comment": "x"}
    ) == ["CHANNEL_DELETED"]
    assert await t.partner.user_errors(DELETE_CHANNEL, {"id": channel["id"], "comment": " "}) == [
        "INVALID_COMMENT"
    ]
    assert await state(t.partner_id) == before
    await assert_ledger_invariants()


async def test_messaging_tier(admin):
    t = await make_tenant(admin)
    channel = await make_channel(t.partner, t.customer_id, 15)
    query = """mutation($id: ID!, $tier: MessagingTier!) { setMessagingTier(channelId: $id, tier: $tier) {
                 channel { messagingTier } userErrors { code } } }"""
    payload = await t.partner.mutate(query, {"id": channel["id"], "tier": "TIER_10K"})
    assert payload["channel"] == {"messagingTier": "TIER_10K"}
    body = await t.partner.execute(query, {"id": channel["id"], "tier": "TIER_3K"})
    assert body["errors"]
    assert await t.customer.user_errors(query, {"id": channel["id"], "tier": "TIER_2K"}) == [
        "FORBIDDEN"
    ]


async def test_channel_lists_filter_by_effective_status(admin, frozen_clock):
    t = await make_tenant(admin)
    await stock(admin, t.partner_id, 20)
    pending = await make_channel(t.partner, t.customer_id, 16)
    short = await make_channel(t.partner, t.customer_id, 17)
    long = await make_channel(t.partner, t.customer_id, 18)
    await t.partner.mutate(EXTEND, {"id": short["id"], "days": 1, "comment": "x"})
    await t.partner.mutate(EXTEND, {"id": long["id"], "days": 10, "comment": "x"})
    frozen_clock.advance(timedelta(days=2))
    query = """query($id: ID!, $status: ChannelStatus) { partner(id: $id) {
                 channels(status: $status) { totalCount edges { node { id status } } } } }"""

    async def ids(status):
        data = await t.partner.data(query, {"id": t.partner_id, "status": status})
        return [e["node"]["id"] for e in data["partner"]["channels"]["edges"]]

    assert await ids(None) == [pending["id"], short["id"], long["id"]]
    assert await ids("EXPIRED") == [short["id"]]
    assert await ids("ACTIVE") == [long["id"]]
    assert await ids("PENDING") == [pending["id"]]
    data = await t.customer.data(
        "query($id: ID!) { customer(id: $id) { channels { totalCount } } }", {"id": t.customer_id}
    )
    assert data["customer"]["channels"]["totalCount"] == 3


async def test_extend_many_is_all_or_nothing(admin, frozen_clock, assert_ledger_invariants):
    t = await make_tenant(admin)
    other = await make_tenant(admin, "Other")
    await stock(admin, t.partner_id, 12)
    mine = [await make_channel(t.partner, t.customer_id, 20 + n) for n in range(3)]
    theirs = await make_channel(other.partner, other.customer_id, 30)
    before = await state(t.partner_id)
    item = lambda c, d=5: {"channelId": c["id"], "days": d}  # noqa: E731
    cases = [
        ([], "INVALID_ARGUMENT"),
        ([item(mine[0]), item(mine[0])], "DUPLICATE_CHANNEL"),
        ([item(mine[0]), item(theirs)], "NOT_FOUND"),
        ([item(mine[0]), {"channelId": "nope", "days": 1}], "NOT_FOUND"),
        ([item(mine[0]), item(mine[1]), item(mine[2])], "INSUFFICIENT_DAYS"),
        ([item(mine[0], 0)], "INVALID_DAYS"),
    ]
    for items, code in cases:
        assert await t.partner.user_errors(EXTEND_MANY, {"items": items, "comment": "auto"}) == [
            code
        ]
    assert await state(t.partner_id) == before

    variables = {
        "items": [item(mine[0], 4), item(mine[2], 6)],
        "comment": "every 5 days",
        "key": "run-1",
    }
    payload = await t.partner.mutate(EXTEND_MANY, variables)
    assert [c["daysRemaining"] for c in payload["channels"]] == [4, 6]
    assert [
        (e["days"], e["dayBalanceAfter"], e["channel"]["id"]) for e in payload["dayEntries"]
    ] == [(-4, 8, mine[0]["id"]), (-6, 2, mine[2]["id"])]
    again = await t.partner.mutate(EXTEND_MANY, variables)
    assert again["replayed"] is True and again["dayEntries"] == payload["dayEntries"]
    assert await day_balance(t.partner, t.partner_id) == 2
    await assert_ledger_invariants()
