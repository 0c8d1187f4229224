"""The movement pipeline: ledgers write and return, reactions follow commits only, events carry rows.

- Nothing reacts inside the transaction: no alert row, no event, no gateway
  call until the unit of work has committed; a rollback gets no reaction.
- Delivering an event to a subscriber reads nothing from the database: the
  queries are counted on the connection itself while the events are delivered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from tortoise import connections

from backend.api.context import Context
from backend.api.schema import build_schema
from backend.domain import access, day_ledger, ledger, recharge
from backend.domain.models import Alert, DayEntryKind, LedgerEntryKind, Role, Wallet
from backend.domain.unit_of_work import drain_after_commit, transaction
from backend.events.bus import bus
from tests.api.test_auto_recharge import CONFIGURE
from tests.factories import make_tenant

THRESHOLD = """mutation($w: ID!, $t: Decimal) {
  setLowBalanceThreshold(walletId: $w, threshold: $t) { userErrors { code } } }"""


class CountingGateway(recharge.SandboxGateway):
    """The sandbox gateway, counting the charges it was asked for."""

    def __init__(self) -> None:
        self.calls = 0

    async def charge(self, **kwargs) -> recharge.GatewayResult:
        self.calls += 1
        return await super().charge(**kwargs)


@pytest.fixture
def gateway() -> Iterator[CountingGateway]:
    counting = CountingGateway()
    recharge.gateway.use(counting)
    yield counting
    recharge.gateway.use(recharge.CardGateway())


async def _alerts(conn, wallet_id: int) -> int:
    rows = await conn.execute_query_dict(
        "SELECT COUNT(*) AS n FROM alerts WHERE wallet_id = " + str(int(wallet_id))
    )
    return rows[0]["n"]


async def test_reactions_follow_the_commit_never_the_transaction(admin, gateway):
    t = await make_tenant(admin, funds="20")
    await t.partner.mutate(THRESHOLD, {"w": t.wallet_id, "t": "10"})
    await t.customer.mutate(
        CONFIGURE, {"w": t.wallet_id, "on": True, "t": "10", "a": "15", "cap": "100"}
    )
    wallet_id = int(t.wallet_id)
    subscription = bus.subscribe([f"wallet:{wallet_id}"])
    try:
        # A debit across both thresholds, rolled back: no reaction at all.
        with pytest.raises(RuntimeError):
            async with transaction() as conn:
                await ledger.post(
                    conn,
                    wallet_id=wallet_id,
                    amount_micros=-15_000_000,
                    kind=LedgerEntryKind.ADJUSTMENT,
                )
                raise RuntimeError("something after the movement failed")
        await drain_after_commit()
        assert subscription.queue.qsize() == 0
        assert gateway.calls == 0
        assert await Alert.filter(wallet_id=wallet_id).count() == 0

        # The same debit, committed: nothing while the transaction is open...
        async with transaction() as conn:
            movement = await ledger.post(
                conn,
                wallet_id=wallet_id,
                amount_micros=-15_000_000,
                kind=LedgerEntryKind.ADJUSTMENT,
            )
            assert movement.balance_before_micros == 20_000_000
            assert movement.balance_after_micros == 5_000_000
            await asyncio.sleep(0)  # give any task that was wrongly started a chance to run
            assert subscription.queue.qsize() == 0
            assert gateway.calls == 0
            assert await _alerts(conn, wallet_id) == 0
        # ...and everything once it has committed.
        await drain_after_commit()
        assert subscription.queue.qsize() >= 1
        event = subscription.queue.get_nowait()
        assert event.data["entry"]["amount_micros"] == -15_000_000
        assert event.data["wallet"]["balance_micros"] == 5_000_000
        assert gateway.calls == 1
        # The alert was raised, then resolved by the recharge (15) that lifted
        # the balance back over the threshold; both after the commit.
        (alert,) = await Alert.filter(wallet_id=wallet_id)
        assert alert.kind == "LOW_BALANCE"
        assert (await Wallet.get(id=wallet_id)).balance_micros == 20_000_000
        assert alert.resolved_at is not None
    finally:
        bus.unsubscribe(subscription)


@contextmanager
def counting_queries() -> Iterator[list[str]]:
    """Every statement sent on the default connection while the block runs."""
    conn = connections.get("default")
    seen: list[str] = []
    names = (
        "execute_query",
        "execute_query_dict",
        "execute_select",
        "execute_insert",
        "execute_many",
        "execute_script",
    )
    originals = {name: getattr(conn, name) for name in names if hasattr(conn, name)}

    def counting(name: str):
        async def run(query, *args, **kwargs):
            seen.append(str(query))
            return await originals[name](query, *args, **kwargs)

        return run

    for name in originals:
        setattr(conn, name, counting(name))
    try:
        yield seen
    finally:
        for name, original in originals.items():
            setattr(conn, name, original)


BALANCE = """subscription($w: ID) { balanceChanged(walletId: $w) {
  wallet { id balance { amount } available { amount } heldAmount: held { amount } }
  entry { id kind amount { amount } balanceAfter { amount } comment createdAt } } }"""
DAYS = """subscription { dayBalanceChanged { partner { id dayBalance lowDaysThreshold }
  entry { id kind days dayBalanceAfter comment createdAt } } }"""


async def test_delivering_events_reads_nothing_from_the_database(admin):
    t = await make_tenant(admin, funds="20")
    schema = build_schema()
    partner = access.Principal(role=Role.PARTNER, partner_id=int(t.partner_id))
    own = await schema.subscribe(
        BALANCE, variable_values={"w": t.wallet_id}, context_value=Context(principal=partner)
    )
    partner_wide = await schema.subscribe(BALANCE, context_value=Context(principal=partner))
    days = await schema.subscribe(DAYS, context_value=Context(principal=partner))
    # Each stream subscribes to the bus once it is first awaited.
    pending = [asyncio.ensure_future(anext(stream)) for stream in (own, partner_wide, days)]
    await asyncio.sleep(0.05)

    async with transaction() as conn:
        await ledger.post(
            conn,
            wallet_id=int(t.wallet_id),
            amount_micros=-2_500_000,
            kind=LedgerEntryKind.ADJUSTMENT,
            comment="counted",
        )
    async with transaction() as conn:
        await day_ledger.post(
            conn, partner_id=int(t.partner_id), days=7, kind=DayEntryKind.PURCHASE, comment="bought"
        )

    with counting_queries() as seen:
        results = [await asyncio.wait_for(future, 5) for future in pending]
    assert seen == []
    for result in results:
        assert result.errors is None, result.errors
    own_event, wide_event, day_event = (r.data for r in results)
    assert own_event == wide_event
    assert own_event["balanceChanged"]["wallet"]["balance"] == {"amount": "17.50"}
    assert own_event["balanceChanged"]["entry"]["comment"] == "counted"
    assert own_event["balanceChanged"]["entry"]["balanceAfter"] == {"amount": "17.50"}
    assert day_event["dayBalanceChanged"]["partner"]["dayBalance"] == 7
    assert day_event["dayBalanceChanged"]["entry"]["days"] == 7

    # The counter does see a read when one happens.
    with counting_queries() as seen:
        await Wallet.get(id=int(t.wallet_id))
    assert len(seen) == 1
    for stream in (own, partner_wide, days):
        await stream.aclose()


class ReactsToNothing:
    """A worker that died between the commit and its reaction, as the books see it."""

    def events(self, movements) -> list:
        return []

    async def react(self, movements) -> None:
        return None


async def test_the_jobs_sweep_puts_right_an_alert_whose_reaction_never_ran(admin):
    from backend.domain import reactions, unit_of_work
    from backend.jobs import runner

    t = await make_tenant(admin, funds="20")
    await t.partner.mutate(THRESHOLD, {"w": t.wallet_id, "t": "10"})
    wallet_id = int(t.wallet_id)

    async def move(micros: int) -> None:
        async with transaction() as conn:
            await ledger.post(
                conn, wallet_id=wallet_id, amount_micros=micros, kind=LedgerEntryKind.ADJUSTMENT
            )

    unit_of_work.install_reactor(ReactsToNothing())
    try:
        await move(-15_000_000)  # across the threshold, and nobody reacted
    finally:
        reactions.install()
    assert await Alert.filter(wallet_id=wallet_id).count() == 0
    report = await runner.run_once()
    assert report["threshold-alerts"] == 1
    (alert,) = await Alert.filter(wallet_id=wallet_id)
    assert alert.kind == "LOW_BALANCE" and alert.resolved_at is None

    unit_of_work.install_reactor(ReactsToNothing())
    try:
        await move(15_000_000)  # back above, and again nobody reacted
    finally:
        reactions.install()
    assert (await runner.run_once())["threshold-alerts"] == 1
    await alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert (await runner.run_once())["threshold-alerts"] == 0  # nothing left to put right


async def test_events_never_carry_a_partners_secrets(admin):
    """Events travel through Redis to every worker: the partner row goes without its secrets."""
    t = await make_tenant(admin)
    await t.partner.mutate(
        """mutation($p: ID!) { configureWhatsAppWebhook(partnerId: $p, appSecret: "meta-app-secret",
             verifyToken: "verify-me") { userErrors { code } } }""",
        {"p": t.partner_id},
    )
    subscription = bus.subscribe([f"partner:{t.partner_id}:days"])
    try:
        async with transaction() as conn:
            await day_ledger.post(
                conn, partner_id=int(t.partner_id), days=3, kind=DayEntryKind.PURCHASE, comment="x"
            )
        event = subscription.queue.get_nowait()
        partner = event.data["partner"]
        assert partner["id"] == int(t.partner_id) and partner["day_balance"] == 3
        assert partner["whatsapp_app_secret"] is None and partner["whatsapp_verify_token"] is None
        assert "meta-app-secret" not in str(event.data) and "verify-me" not in str(event.data)
    finally:
        bus.unsubscribe(subscription)
