"""The money ledger as worked accounting scenarios, through GraphQL over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import ADJUST, CHARGE, TOP_UP, WALLET, make_tenant, wallet_state


async def test_a_month_of_movements_adds_up(admin, frozen_clock, assert_ledger_invariants):
    """Top up 100, charge 30, correct -20 and +5.25: balance 55.25, every line running."""
    t = await make_tenant(admin)
    await t.partner.mutate(TOP_UP, {"walletId": t.wallet_id, "amount": "100", "comment": "Card"})
    frozen_clock.advance(timedelta(days=1))
    await t.partner.mutate(CHARGE, {"walletId": t.wallet_id, "amount": "30", "comment": "CRM sync"})
    await t.partner.mutate(ADJUST, {"walletId": t.wallet_id, "amount": "-20", "comment": "Fee"})
    payload = await t.partner.mutate(
        ADJUST, {"walletId": t.wallet_id, "amount": "5.25", "comment": "Goodwill"}
    )
    assert payload["wallet"]["balance"]["amount"] == "55.25"
    assert payload["entry"]["balanceAfter"]["amount"] == "55.25"

    wallet = await wallet_state(t.partner, t.wallet_id)
    lines = [
        (e["node"]["kind"], e["node"]["amount"]["amount"], e["node"]["balanceAfter"]["amount"])
        for e in wallet["entries"]["edges"]
    ]
    # Newest first, signed amounts, each balanceAfter the running sum.
    assert lines == [
        ("ADJUSTMENT", "5.25", "55.25"),
        ("ADJUSTMENT", "-20.00", "50.00"),
        ("INTEGRATION_CHARGE", "-30.00", "70.00"),
        ("TOP_UP", "100.00", "100.00"),
    ]
    assert wallet["entries"]["totalCount"] == 4
    assert wallet["balance"] == {"amount": "55.25", "currencyCode": "USD"}
    await assert_ledger_invariants()


async def test_debit_beyond_available_is_refused_and_changes_nothing(
    admin, assert_ledger_invariants
):
    t = await make_tenant(admin, funds="10")
    codes = await t.partner.user_errors(
        CHARGE, {"walletId": t.wallet_id, "amount": "10.000001", "comment": "too much"}
    )
    assert codes == ["INSUFFICIENT_FUNDS"]
    codes = await t.partner.user_errors(
        ADJUST, {"walletId": t.wallet_id, "amount": "-10.01", "comment": "too much"}
    )
    assert codes == ["INSUFFICIENT_FUNDS"]
    wallet = await wallet_state(t.partner, t.wallet_id)
    assert wallet["balance"]["amount"] == "10.00"
    assert wallet["entries"]["totalCount"] == 1
    # Exactly the available amount passes.
    payload = await t.partner.mutate(
        CHARGE, {"walletId": t.wallet_id, "amount": "10", "comment": "all of it"}
    )
    assert payload["wallet"]["balance"]["amount"] == "0.00"
    await assert_ledger_invariants()


async def test_credit_limit_lets_the_balance_go_below_zero(admin, assert_ledger_invariants):
    t = await make_tenant(admin, funds="5")
    payload = await t.partner.mutate(
        """mutation($w: ID!) { setCreditLimit(walletId: $w, creditLimit: "20") {
             wallet { available { amount } creditLimit { amount } } userErrors { code } } }""",
        {"w": t.wallet_id},
    )
    assert payload["wallet"] == {
        "available": {"amount": "25.00"},
        "creditLimit": {"amount": "20.00"},
    }
    await t.partner.mutate(CHARGE, {"walletId": t.wallet_id, "amount": "24.5", "comment": "usage"})
    codes = await t.partner.user_errors(
        CHARGE, {"walletId": t.wallet_id, "amount": "0.51", "comment": "usage"}
    )
    assert codes == ["INSUFFICIENT_FUNDS"]
    wallet = await wallet_state(t.partner, t.wallet_id)
    assert wallet["balance"]["amount"] == "-19.50"
    assert wallet["available"]["amount"] == "0.50"
    await assert_ledger_invariants()


async def test_low_balance_threshold_is_set_and_cleared(admin):
    t = await make_tenant(admin)
    query = """mutation($w: ID!, $t: Decimal) { setLowBalanceThreshold(walletId: $w, threshold: $t) {
                 wallet { lowBalanceThreshold { amount currencyCode } } userErrors { code field } } }"""
    # The customer itself may choose when to be warned.
    payload = await t.customer.mutate(query, {"w": t.wallet_id, "t": "12.5"})
    assert payload["wallet"]["lowBalanceThreshold"] == {"amount": "12.50", "currencyCode": "USD"}
    payload = await t.partner.mutate(query, {"w": t.wallet_id, "t": None})
    assert payload["wallet"]["lowBalanceThreshold"] is None
    assert await t.partner.user_errors(query, {"w": t.wallet_id, "t": "-1"}) == ["INVALID_AMOUNT"]


async def test_entries_filter_by_kind_and_time_and_paginate(admin, frozen_clock):
    t = await make_tenant(admin)
    start = frozen_clock.now()
    for day in range(5):
        await t.partner.mutate(TOP_UP, {"walletId": t.wallet_id, "amount": f"{day + 1}"})
        await t.partner.mutate(CHARGE, {"walletId": t.wallet_id, "amount": "0.5", "comment": "use"})
        frozen_clock.advance(timedelta(days=1))
    query = """query($id: ID!, $kind: LedgerEntryKind, $since: DateTime, $until: DateTime,
                     $first: Int, $after: String) {
      wallet(id: $id) { entries(kind: $kind, since: $since, until: $until, first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { kind amount { amount } } } } } }"""
    data = await t.partner.data(query, {"id": t.wallet_id, "kind": "TOP_UP"})
    amounts = [e["node"]["amount"]["amount"] for e in data["wallet"]["entries"]["edges"]]
    assert amounts == ["5.00", "4.00", "3.00", "2.00", "1.00"]

    window = {
        "since": (start + timedelta(days=1)).isoformat(),
        "until": (start + timedelta(days=3)).isoformat(),
    }
    data = await t.partner.data(query, {"id": t.wallet_id, **window})
    entries = data["wallet"]["entries"]
    assert entries["totalCount"] == 4
    assert {e["node"]["amount"]["amount"] for e in entries["edges"]} == {"2.00", "3.00", "-0.50"}

    seen, after = [], None
    while True:
        data = await t.partner.data(query, {"id": t.wallet_id, "first": 3, "after": after})
        page = data["wallet"]["entries"]
        seen += [e["node"]["amount"]["amount"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 10 and seen[0] == "-0.50" and seen[-1] == "1.00"


@pytest.mark.parametrize(
    "amount",
    [
        "0",
        "0.000000",
        "-5",
        "abc",
        "",
        "1.0000001",
        "1e3",
        "NaN",
        "Infinity",
        "12,50",
        "1000000000000",
        "99999999999999999999",
        " ",
        "1.2.3",
    ],
)
async def test_bad_top_up_amounts_are_refused_and_change_nothing(admin, amount):
    t = await make_tenant(admin, funds="1")
    codes = await t.partner.user_errors(TOP_UP, {"walletId": t.wallet_id, "amount": amount})
    assert codes == ["INVALID_AMOUNT"]
    wallet = await wallet_state(t.partner, t.wallet_id)
    assert wallet["balance"]["amount"] == "1.00"
    assert wallet["entries"]["totalCount"] == 1


async def test_a_float_amount_is_rejected_by_the_scalar(admin):
    t = await make_tenant(admin, funds="1")
    body = await t.partner.execute(
        "mutation($w: ID!) { topUpWallet(walletId: $w, amount: 12.5) { userErrors { code } } }",
        {"w": t.wallet_id},
    )
    assert body["errors"] and "Decimal" in body["errors"][0]["message"]
    assert (await wallet_state(t.partner, t.wallet_id))["entries"]["totalCount"] == 1


@pytest.mark.parametrize("comment", ["", "   ", "\n\t", "x" * 501])
async def test_adjustment_needs_a_real_comment(admin, comment):
    t = await make_tenant(admin, funds="3")
    codes = await t.partner.user_errors(
        ADJUST, {"walletId": t.wallet_id, "amount": "1", "comment": comment}
    )
    assert codes == ["INVALID_COMMENT"]
    assert (await wallet_state(t.partner, t.wallet_id))["balance"]["amount"] == "3.00"


@pytest.mark.parametrize("wallet_id", ["999999", "abc", "-1", "0", ""])
async def test_unknown_wallet_ids_are_not_found(admin, wallet_id):
    await make_tenant(admin, funds="3")
    codes = await admin.user_errors(TOP_UP, {"walletId": wallet_id, "amount": "1"})
    assert codes == ["NOT_FOUND"]


async def test_bad_credit_limits_are_refused(admin):
    t = await make_tenant(admin, funds="3")
    query = """mutation($w: ID!, $c: Decimal!) { setCreditLimit(walletId: $w, creditLimit: $c) {
                 wallet { creditLimit { amount } } userErrors { code } } }"""
    for value in ["-1", "abc", "1.1234567", "2000000000000"]:
        assert await t.partner.user_errors(query, {"w": t.wallet_id, "c": value}) == [
            "INVALID_AMOUNT"
        ]
    assert (await wallet_state(t.partner, t.wallet_id))["creditLimit"]["amount"] == "0.00"
    # A customer may not extend its own credit.
    assert await t.customer.user_errors(query, {"w": t.wallet_id, "c": "50"}) == ["FORBIDDEN"]


async def test_wallet_query_shows_the_ledger(admin):
    t = await make_tenant(admin, funds="7.123456")
    wallet = (await t.customer.data(WALLET, {"id": t.wallet_id}))["wallet"]
    assert wallet["balance"] == {"amount": "7.123456", "currencyCode": "USD"}
    assert wallet["entries"]["edges"][0]["node"]["kind"] == "TOP_UP"


async def test_low_balance_alert_fires_once_per_crossing(admin):
    t = await make_tenant(admin, funds="20")
    threshold = """mutation($w: ID!, $t: Decimal) { setLowBalanceThreshold(walletId: $w, threshold: $t) {
                     userErrors { code } } }"""
    await t.partner.mutate(threshold, {"w": t.wallet_id, "t": "10"})

    async def low():
        data = await t.customer.data("{ alerts { kind resolvedAt } }")
        return [a for a in data["alerts"] if a["kind"] == "LOW_BALANCE"]

    await t.partner.mutate(CHARGE, {"walletId": t.wallet_id, "amount": "9", "comment": "use"})  # 11
    assert await low() == []
    await t.partner.mutate(CHARGE, {"walletId": t.wallet_id, "amount": "2", "comment": "use"})  # 9
    await t.partner.mutate(CHARGE, {"walletId": t.wallet_id, "amount": "2", "comment": "use"})  # 7
    alerts = await low()
    assert len(alerts) == 1 and alerts[0]["resolvedAt"] is None
    await t.partner.mutate(TOP_UP, {"walletId": t.wallet_id, "amount": "5"})  # 12: resolved
    assert (await low())[0]["resolvedAt"] is not None
    await t.partner.mutate(threshold, {"w": t.wallet_id, "t": "50"})  # raised above: a crossing
    assert len(await low()) == 2
