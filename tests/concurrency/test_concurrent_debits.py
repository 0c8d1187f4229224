"""Rule 4 with real concurrency: many simultaneous requests against one wallet or partner.

Every request is a real GraphQL call over HTTP handled concurrently by the app;
on PostgreSQL each runs on its own pooled connection, so the row lock and the
conditional UPDATE are what keep the ledger exact.
"""

from __future__ import annotations

import asyncio

from backend.domain import day_ledger
from backend.domain.errors import InsufficientDays
from backend.domain.models import DayEntry, DayEntryKind, LedgerEntry, Partner
from backend.domain.unit_of_work import transaction
from tests.factories import CHARGE, PURCHASE_DAYS, TOP_UP, make_tenant, wallet_state


async def test_200_concurrent_debits_against_a_wallet_that_affords_50(
    admin, assert_ledger_invariants
):
    t = await make_tenant(admin, funds="50")

    async def debit(n: int) -> dict:
        body = await t.partner.execute(
            CHARGE, {"walletId": t.wallet_id, "amount": "1", "comment": f"debit {n}"}
        )
        assert not body.get("errors"), body
        return body["data"]["chargeIntegration"]

    results = await asyncio.gather(*(debit(n) for n in range(200)))
    succeeded = [r for r in results if not r["userErrors"]]
    refused = [r for r in results if r["userErrors"]]
    assert len(succeeded) == 50
    assert len(refused) == 150
    assert {e["code"] for r in refused for e in r["userErrors"]} == {"INSUFFICIENT_FUNDS"}

    wallet = await wallet_state(t.partner, t.wallet_id)
    assert wallet["balance"]["amount"] == "0.00"
    # Each success saw a distinct balance: no two debits passed on the same funds.
    after = sorted(r["entry"]["balanceAfter"]["amount"] for r in succeeded)
    assert after == sorted(f"{n}.00" for n in range(50))
    assert await LedgerEntry.filter(wallet_id=int(t.wallet_id)).count() == 51
    await assert_ledger_invariants()


async def test_concurrent_credits_and_debits_on_two_wallets_stay_exact(
    admin, assert_ledger_invariants
):
    a = await make_tenant(admin, "A", funds="10")
    b = await make_tenant(admin, "B", funds="10")

    async def move(tenant, query, amount, n):
        return await tenant.partner.execute(
            query, {"walletId": tenant.wallet_id, "amount": amount, "comment": f"m{n}"}
        )

    calls = []
    for n in range(60):
        calls.append(move(a, TOP_UP, "0.25", n))
        calls.append(move(a, CHARGE, "0.5", n))
        calls.append(move(b, CHARGE, "0.3", n))
    bodies = await asyncio.gather(*calls)
    assert all(not body.get("errors") for body in bodies)
    await assert_ledger_invariants()
    # B could afford exactly 33 debits of 0.30 out of 10.00.
    b_wallet = await wallet_state(b.partner, b.wallet_id)
    assert b_wallet["balance"]["amount"] == "0.10"


async def test_the_same_idempotency_key_20_times_at_once_moves_once(
    admin, assert_ledger_invariants
):
    t = await make_tenant(admin)
    variables = {"walletId": t.wallet_id, "amount": "12.34", "comment": "card", "key": "pay-123"}
    bodies = await asyncio.gather(*(t.partner.execute(TOP_UP, variables) for _ in range(20)))
    payloads = [body["data"]["topUpWallet"] for body in bodies]
    assert all(p["userErrors"] == [] for p in payloads)
    assert {p["entry"]["id"] for p in payloads} == {payloads[0]["entry"]["id"]}
    assert sum(1 for p in payloads if not p["replayed"]) == 1
    wallet = await wallet_state(t.partner, t.wallet_id)
    assert wallet["balance"]["amount"] == "12.34"
    assert wallet["entries"]["totalCount"] == 1
    await assert_ledger_invariants()


async def test_the_same_idempotency_key_on_a_debit_that_fails_first_then_succeeds(admin):
    """A refused call leaves its key unused: the retry after a top-up goes through once."""
    t = await make_tenant(admin)
    debit = {"walletId": t.wallet_id, "amount": "5", "comment": "sync", "key": "usage-1"}
    assert await t.partner.user_errors(CHARGE, debit) == ["INSUFFICIENT_FUNDS"]
    await t.partner.mutate(TOP_UP, {"walletId": t.wallet_id, "amount": "5"})
    bodies = await asyncio.gather(*(t.partner.execute(CHARGE, debit) for _ in range(10)))
    assert sum(1 for b in bodies if not b["data"]["chargeIntegration"]["replayed"]) == 1
    assert (await wallet_state(t.partner, t.wallet_id))["balance"]["amount"] == "0.00"


async def test_concurrent_day_purchases_with_one_key_add_days_once(admin, assert_ledger_invariants):
    t = await make_tenant(admin)
    variables = {"partnerId": t.partner_id, "days": 30, "comment": "invoice 7", "key": "inv-7"}
    bodies = await asyncio.gather(*(admin.execute(PURCHASE_DAYS, variables) for _ in range(20)))
    assert all(b["data"]["purchaseDays"]["userErrors"] == [] for b in bodies)
    assert (await Partner.get(id=int(t.partner_id))).day_balance == 30
    await assert_ledger_invariants()


async def test_concurrent_day_withdrawals_never_overdraw_the_partner(
    admin, assert_ledger_invariants
):
    """50 simultaneous corrections of -3 days against a balance of 90: exactly 30 pass."""
    t = await make_tenant(admin)
    await admin.mutate(PURCHASE_DAYS, {"partnerId": t.partner_id, "days": 90, "comment": "stock"})
    partner_id = int(t.partner_id)

    async def withdraw(n: int) -> bool:
        try:
            async with transaction() as conn:
                await day_ledger.post(
                    conn,
                    partner_id=partner_id,
                    days=-3,
                    kind=DayEntryKind.ADJUSTMENT,
                    comment=f"allocation {n}",
                )
            return True
        except InsufficientDays:
            return False

    outcomes = await asyncio.gather(*(withdraw(n) for n in range(50)))
    assert outcomes.count(True) == 30
    assert (await Partner.get(id=partner_id)).day_balance == 0
    assert await DayEntry.filter(partner_id=partner_id, kind=DayEntryKind.ADJUSTMENT).count() == 30
    await assert_ledger_invariants()
