"""Auto-recharge: once per crossing, after commit, within the daily cap, disabled after 3 failures."""

from __future__ import annotations

import asyncio

import pytest

from backend.domain import recharge
from backend.domain.models import AutoRechargeRule, LedgerEntry
from backend.domain.unit_of_work import drain_after_commit
from tests.factories import CHARGE, make_tenant, wallet_state

CONFIGURE = """mutation($w: ID!, $on: Boolean!, $t: Decimal!, $a: Decimal!, $cap: Decimal!) {
  configureAutoRecharge(walletId: $w, input: {enabled: $on, threshold: $t, amount: $a, dailyCap: $cap}) {
    wallet { autoRecharge { enabled threshold { amount } amount { amount } dailyCap { amount }
                            consecutiveFailures lastError } }
    userErrors { field code } } }"""


@pytest.fixture
def declining():
    recharge.gateway.use(recharge.DecliningGateway())
    yield
    recharge.gateway.use(recharge.CardGateway())


async def recharges(wallet_id: str) -> int:
    return await LedgerEntry.filter(wallet_id=int(wallet_id), kind="AUTO_RECHARGE").count()


async def test_100_concurrent_debits_crossing_together_recharge_once(
    admin, assert_ledger_invariants
):
    t = await make_tenant(admin, funds="100")
    await t.partner.mutate(
        """mutation($w: ID!) { setLowBalanceThreshold(walletId: $w, threshold: "50") { userErrors { code } } }""",
        {"w": t.wallet_id},
    )
    await t.customer.mutate(
        CONFIGURE, {"w": t.wallet_id, "on": True, "t": "50", "a": "100", "cap": "500"}
    )
    bodies = await asyncio.gather(
        *(
            t.partner.execute(
                CHARGE, {"walletId": t.wallet_id, "amount": "0.9", "comment": f"d{n}"}
            )
            for n in range(100)
        )
    )
    assert all(b["data"]["chargeIntegration"]["userErrors"] == [] for b in bodies)
    await drain_after_commit()
    assert await recharges(t.wallet_id) == 1
    wallet = await wallet_state(t.partner, t.wallet_id)
    assert wallet["balance"]["amount"] == "110.00"  # 100 - 90 + 100
    alerts = (await t.customer.data("{ alerts { kind resolvedAt } }"))["alerts"]
    low = [a for a in alerts if a["kind"] == "LOW_BALANCE"]
    assert len(low) == 1 and low[0]["resolvedAt"] is not None  # the recharge lifted it
    await assert_ledger_invariants()


async def test_the_daily_cap_is_respected(admin, frozen_clock):
    t = await make_tenant(admin, funds="20")
    await t.customer.mutate(
        CONFIGURE, {"w": t.wallet_id, "on": True, "t": "10", "a": "15", "cap": "20"}
    )
    await t.partner.mutate(
        CHARGE, {"walletId": t.wallet_id, "amount": "15", "comment": "x"}
    )  # 5: cross
    await drain_after_commit()
    assert await recharges(t.wallet_id) == 1  # 20
    await t.partner.mutate(
        CHARGE, {"walletId": t.wallet_id, "amount": "15", "comment": "x"}
    )  # 5: cross
    await drain_after_commit()
    assert await recharges(t.wallet_id) == 1  # a second 15 would pass the 20 cap today
    assert (await wallet_state(t.partner, t.wallet_id))["balance"]["amount"] == "5.00"


async def test_three_failures_in_a_row_disable_the_rule(admin, declining):
    t = await make_tenant(admin, funds="30")
    await t.customer.mutate(
        CONFIGURE, {"w": t.wallet_id, "on": True, "t": "25", "a": "10", "cap": "100"}
    )
    for _ in range(3):
        await t.partner.mutate(
            CHARGE, {"walletId": t.wallet_id, "amount": "6", "comment": "x"}
        )  # cross
        await drain_after_commit()
        await t.partner.mutate(
            """mutation($w: ID!) { topUpWallet(walletId: $w, amount: "6") { userErrors { code } } }""",
            {"w": t.wallet_id},
        )  # back above: the next debit crosses again
    rule = await AutoRechargeRule.get(wallet_id=int(t.wallet_id))
    assert (rule.enabled, rule.consecutive_failures, rule.last_error) == (False, 3, "card declined")
    alerts = (await t.customer.data("{ alerts { kind } }"))["alerts"]
    assert [a["kind"] for a in alerts].count("AUTO_RECHARGE_FAILED") == 3
    assert await recharges(t.wallet_id) == 0


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"t": "10", "a": "-5", "cap": "50"}, "INVALID_AMOUNT"),
        ({"t": "10", "a": "0", "cap": "50"}, "INVALID_AMOUNT"),
        ({"t": "10", "a": "20", "cap": "15"}, "INVALID_AMOUNT"),
        ({"t": "-1", "a": "20", "cap": "50"}, "INVALID_AMOUNT"),
        ({"t": "x", "a": "20", "cap": "50"}, "INVALID_AMOUNT"),
    ],
)
async def test_bad_rules_are_refused(admin, values, code):
    t = await make_tenant(admin)
    assert await t.customer.user_errors(CONFIGURE, {"w": t.wallet_id, "on": True, **values}) == [
        code
    ]
    assert await AutoRechargeRule.all().count() == 0


async def test_a_foreign_wallet_is_not_found(admin):
    a = await make_tenant(admin, "A")
    b = await make_tenant(admin, "B")
    variables = {"w": b.wallet_id, "on": True, "t": "1", "a": "2", "cap": "2"}
    assert await a.partner.user_errors(CONFIGURE, variables) == ["NOT_FOUND"]
    assert await a.customer.user_errors(CONFIGURE, variables) == ["NOT_FOUND"]


async def test_two_attempts_at_once_recharge_once(admin):
    t = await make_tenant(admin, funds="20")
    await t.partner.mutate(CHARGE, {"walletId": t.wallet_id, "amount": "15", "comment": "x"})  # 5
    await t.customer.mutate(
        CONFIGURE, {"w": t.wallet_id, "on": True, "t": "10", "a": "15", "cap": "100"}
    )
    outcomes = await asyncio.gather(
        recharge.attempt(int(t.wallet_id)), recharge.attempt(int(t.wallet_id))
    )
    # The second waits for the first's claim, then finds it in flight (or, if
    # the first already posted, finds the balance restored): never a second charge.
    assert sorted(outcomes) in (["in flight", "recharged"], ["not needed", "recharged"])
    assert await recharges(t.wallet_id) == 1
    assert (await wallet_state(t.partner, t.wallet_id))["balance"]["amount"] == "20.00"


class CutAfterCharging:
    """A gateway that takes the money and then loses the connection, the first time.

    It remembers charges by idempotency key, as a real gateway does, and
    answers a repeated key with the first charge instead of charging again.
    """

    def __init__(self) -> None:
        self.charges: dict[str, str] = {}
        self.calls = 0

    async def charge(self, *, wallet_id, amount_micros, currency, idempotency_key):
        self.calls += 1
        first_time = idempotency_key not in self.charges
        self.charges.setdefault(idempotency_key, f"gw_{len(self.charges) + 1}")
        if first_time:
            raise ConnectionResetError("connection lost after the charge went through")
        return recharge.GatewayResult(ok=True, reference=self.charges[idempotency_key])


async def test_a_charge_whose_answer_was_lost_is_posted_once_by_the_jobs_loop(
    admin, frozen_clock, assert_ledger_invariants
):
    from datetime import timedelta

    from backend.domain.models import RechargeAttempt
    from backend.jobs import runner

    gateway = CutAfterCharging()
    recharge.gateway.use(gateway)
    try:
        t = await make_tenant(admin, funds="20")
        await t.customer.mutate(
            CONFIGURE, {"w": t.wallet_id, "on": True, "t": "10", "a": "15", "cap": "100"}
        )
        await t.partner.mutate(CHARGE, {"walletId": t.wallet_id, "amount": "15", "comment": "x"})
        await drain_after_commit()  # the attempt ran after commit and lost its answer
        (pending,) = await RechargeAttempt.all()
        assert (pending.status, pending.tries) == ("PENDING", 1)
        assert await recharges(t.wallet_id) == 0 and len(gateway.charges) == 1

        # Another crossing meanwhile must not charge again: one attempt in flight.
        assert await recharge.attempt(int(t.wallet_id)) == "in flight"
        shown = await t.partner.data(
            "query($w: ID!) { wallet(id: $w) { autoRecharge { pendingSince } } }",
            {"w": t.wallet_id},
        )
        assert shown["wallet"]["autoRecharge"]["pendingSince"] is not None
        assert (await runner.run_once())["recharge-retry"] == {}  # not stale yet

        frozen_clock.advance(timedelta(minutes=3))
        assert (await runner.run_once())["recharge-retry"] == {"recharged": 1}
        done = await RechargeAttempt.get(id=pending.id)
        assert (done.status, done.gateway_reference, done.tries) == ("SUCCEEDED", "gw_1", 2)
        assert len(gateway.charges) == 1  # the customer was charged once
        entry = await LedgerEntry.get(kind="AUTO_RECHARGE")
        assert (entry.amount_micros, entry.reference, entry.id) == (
            15_000_000,
            "gw_1",
            done.ledger_entry_id,
        )
        assert (await wallet_state(t.partner, t.wallet_id))["balance"]["amount"] == "20.00"
        assert (await runner.run_once())["recharge-retry"] == {}
        cleared = await t.partner.data(
            "query($w: ID!) { wallet(id: $w) { autoRecharge { pendingSince } } }",
            {"w": t.wallet_id},
        )
        assert cleared["wallet"]["autoRecharge"]["pendingSince"] is None
    finally:
        recharge.gateway.use(recharge.CardGateway())
    await assert_ledger_invariants()
