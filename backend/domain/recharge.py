"""Auto-recharge: a wallet that falls below its rule's threshold asks the payment gateway for more.

- Once per crossing: the movement that takes the balance from at-or-above the
  threshold to below it schedules one attempt; debits serialise on the wallet
  row, so however many cross together, one of them is the crossing.
- After commit: the gateway is called only once the debit has committed
  (``reactions`` starts it), and a success posts an AUTO_RECHARGE entry in its
  own transaction.
- At most ``daily_cap`` per UTC day, counted from the day's AUTO_RECHARGE
  entries; one attempt in flight per wallet (a partial unique index).
- Durable: each attempt is a row written before the gateway is called, so a
  charge whose entry was never posted is found and finished by the jobs loop.
- A failure raises AUTO_RECHARGE_FAILED; three in a row disable the rule.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Protocol

from tortoise.functions import Sum

from backend.domain import access, alerts, ledger, locking, payments, unit_of_work
from backend.domain.access import Principal
from backend.domain.clock import clock
from backend.domain.errors import InvalidAmount
from backend.domain.ledger import FundsPolicy
from backend.domain.models import (
    AlertKind,
    AutoRechargeRule,
    LedgerEntry,
    LedgerEntryKind,
    PaymentStatus,
    RechargeAttempt,
    RechargeAttemptStatus,
    Role,
    Wallet,
)
from backend.domain.money import MAX_MOVEMENT_MICROS, check_micros, format_micros
from backend.domain.unit_of_work import transaction

MAX_FAILURES = 3
# A PENDING attempt untouched this long lost its worker or its answer: ask again.
STALE_AFTER = timedelta(minutes=2)

log = logging.getLogger("daybook.recharge")


@dataclass(frozen=True)
class GatewayResult:
    ok: bool
    reference: str | None = None
    error: str | None = None
    # The card's bank wants the holder to authenticate: not a decline, the rule pauses.
    needs_action: bool = False


class PaymentGateway(Protocol):
    """Charges the customer's payment method.

    ``idempotency_key`` is the same for every try of one attempt: a real
    gateway (Stripe, Adyen and the like take such a key) must answer a repeated
    key with the first result and never charge twice.
    """

    async def charge(
        self, *, wallet_id: int, amount_micros: int, currency: str, idempotency_key: str
    ) -> GatewayResult: ...


class SandboxGateway:
    """Succeeds at once, as a test card would; one reference per idempotency key."""

    async def charge(
        self, *, wallet_id: int, amount_micros: int, currency: str, idempotency_key: str
    ) -> GatewayResult:
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]
        return GatewayResult(ok=True, reference=f"sandbox_{digest}")


class DecliningGateway:
    """Declines every charge (for tests and for drills)."""

    async def charge(
        self, *, wallet_id: int, amount_micros: int, currency: str, idempotency_key: str
    ) -> GatewayResult:
        return GatewayResult(ok=False, error="card declined")


class CardGateway:
    """The customer's default card at its partner's Stripe account, charged off-session.

    A partner without an account connected gets the sandbox (``make run``
    without Stripe): its references say ``sandbox_``, so nobody mistakes them.
    """

    def __init__(self) -> None:
        self.sandbox = SandboxGateway()

    async def charge(
        self, *, wallet_id: int, amount_micros: int, currency: str, idempotency_key: str
    ) -> GatewayResult:
        intent = await payments.charge_for_recharge(
            wallet_id=wallet_id, amount_micros=amount_micros, idempotency_key=idempotency_key
        )
        if intent is None:
            return await self.sandbox.charge(
                wallet_id=wallet_id,
                amount_micros=amount_micros,
                currency=currency,
                idempotency_key=idempotency_key,
            )
        return GatewayResult(
            ok=intent.status == PaymentStatus.SUCCEEDED,
            reference=intent.id,
            error=None
            if intent.status == PaymentStatus.SUCCEEDED
            else (intent.failure_code or intent.status.lower()),
            needs_action=intent.status == PaymentStatus.REQUIRES_ACTION,
        )


class _GatewayHolder:
    def __init__(self) -> None:
        self.current: PaymentGateway = CardGateway()

    def use(self, gateway: PaymentGateway) -> None:
        self.current = gateway


gateway = _GatewayHolder()


async def configure(
    principal: Principal,
    *,
    wallet_id: int,
    enabled: bool,
    threshold_micros: int,
    amount_micros: int,
    daily_cap_micros: int,
) -> Wallet:
    """``configureAutoRecharge``: the customer or its partner sets the rule."""
    access.require_role(principal, Role.ADMIN, Role.PARTNER, Role.CUSTOMER)
    wallet = await access.get_wallet(principal, wallet_id)
    check_micros(threshold_micros, field="threshold", allow_zero=True)
    check_micros(amount_micros, field="amount")
    cap_micros = check_micros(daily_cap_micros, field="daily_cap", max_micros=MAX_MOVEMENT_MICROS)
    if cap_micros < amount_micros:
        raise InvalidAmount("The daily cap cannot be below one recharge.", field="daily_cap")
    async with transaction() as conn:
        rule = await AutoRechargeRule.get_or_none(wallet_id=wallet.id).using_db(conn)
        values = {
            "enabled": enabled,
            "threshold_micros": threshold_micros,
            "amount_micros": amount_micros,
            "daily_cap_micros": cap_micros,
            "consecutive_failures": 0,
        }
        if rule is None:
            await AutoRechargeRule.create(wallet_id=wallet.id, using_db=conn, **values)
        else:
            await AutoRechargeRule.filter(id=rule.id).using_db(conn).update(**values)
        await (
            Wallet.filter(id=wallet.id)
            .using_db(conn)
            .update(recharge_threshold_micros=threshold_micros if enabled else None)
        )
    return await Wallet.get(id=wallet.id)


def start_attempt(wallet_id: int) -> None:
    """A committed debit crossed the recharge threshold: ask the gateway, on a task of its own."""
    unit_of_work.spawn(lambda: attempt(wallet_id))


async def recharged_today(wallet_id: int, now: datetime) -> int:
    start = datetime.combine(now.date(), time.min, tzinfo=now.tzinfo)
    total = (
        await LedgerEntry.filter(
            wallet_id=wallet_id, kind=LedgerEntryKind.AUTO_RECHARGE, created_at__gte=start
        )
        .annotate(total=Sum("amount_micros"))
        .first()
        .values_list("total", flat=True)
    )
    return int(total or 0)


async def attempt(wallet_id: int) -> str:
    """Ask the gateway once and record what happened; the outcome, for logs and tests.

    Three steps, so that money taken is never money lost:
    1. claim: with the rule row locked, check the balance, the attempt in
       flight and the daily cap, and write a PENDING ``RechargeAttempt`` with
       a fresh idempotency key; commit;
    2. ask the gateway, outside any transaction or lock, with that key;
    3. record: post the AUTO_RECHARGE entry (or count the failure) and close
       the attempt, in one transaction, exactly once.
    If step 3 never happens (the worker died, the connection dropped after the
    gateway charged), the jobs loop retries the PENDING attempt with the same
    key (``retry_stale``): the gateway answers with its first charge.
    """
    now = clock.now()
    async with transaction() as conn:
        rule = await locking.lock_recharge_rule(conn, wallet_id, enabled_only=True)
        if rule is None:
            return "no rule"
        wallet = await Wallet.get(id=wallet_id).using_db(conn)
        if wallet.balance_micros >= rule.threshold_micros:
            return "not needed"
        if (
            await RechargeAttempt.filter(wallet_id=wallet_id, status=RechargeAttemptStatus.PENDING)
            .using_db(conn)
            .exists()
        ):
            return "in flight"  # its recharge will lift the balance
        if await recharged_today(wallet_id, now) + rule.amount_micros > rule.daily_cap_micros:
            return "daily cap reached"
        claimed = await RechargeAttempt.create(
            wallet_id=wallet_id,
            amount_micros=rule.amount_micros,
            currency_code=wallet.currency_code,
            idempotency_key=f"daybook-recharge-{secrets.token_hex(16)}",
            status=RechargeAttemptStatus.PENDING,
            created_at=now,
            updated_at=now,
            using_db=conn,
        )
    return await _ask_and_record(claimed)


async def _ask_and_record(claimed: RechargeAttempt) -> str:
    await RechargeAttempt.filter(id=claimed.id).update(
        tries=claimed.tries + 1, updated_at=clock.now()
    )
    result = await gateway.current.charge(
        wallet_id=claimed.wallet_id,
        amount_micros=claimed.amount_micros,
        currency=claimed.currency_code,
        idempotency_key=claimed.idempotency_key,
    )
    return await _record(claimed, result)


async def _record(claimed: RechargeAttempt, result: GatewayResult) -> str:
    """Close a PENDING attempt with the gateway's answer, once (a racing retry finds it closed)."""
    now = clock.now()
    wallet_id = claimed.wallet_id
    async with transaction() as conn:
        status = RechargeAttemptStatus.SUCCEEDED if result.ok else RechargeAttemptStatus.FAILED
        closed = await (
            RechargeAttempt.filter(id=claimed.id, status=RechargeAttemptStatus.PENDING)
            .using_db(conn)
            .update(
                status=status,
                gateway_reference=result.reference,
                error=None if result.ok else (result.error or "declined")[:500],
                updated_at=now,
            )
        )
        if not closed:
            return "already recorded"
        rule = await locking.lock_recharge_rule(conn, wallet_id)
        if result.ok:
            movement = await ledger.post(
                conn,
                wallet_id=wallet_id,
                amount_micros=claimed.amount_micros,
                kind=LedgerEntryKind.AUTO_RECHARGE,
                policy=FundsPolicy.REQUIRE_AVAILABLE,
                comment="Automatic recharge",
                reference=result.reference,
            )
            await (
                RechargeAttempt.filter(id=claimed.id)
                .using_db(conn)
                .update(ledger_entry_id=movement.entry.id)
            )
            await payments.link_recharge_entry(conn, claimed.id, movement.entry.id)
            if rule is not None:
                await (
                    AutoRechargeRule.filter(id=rule.id)
                    .using_db(conn)
                    .update(consecutive_failures=0, last_attempt_at=now, last_error=None)
                )
            return "recharged"
        if rule is None:
            return "failed"
        if result.needs_action:
            await _pause_for_authentication(conn, rule, claimed, result)
            return "needs authentication"
        failures = rule.consecutive_failures + 1
        disabled = failures >= MAX_FAILURES
        await (
            AutoRechargeRule.filter(id=rule.id)
            .using_db(conn)
            .update(
                consecutive_failures=failures,
                last_attempt_at=now,
                last_error=(result.error or "declined")[:500],
                enabled=not disabled,
            )
        )
        if disabled:
            await _stop_crossing_checks(conn, wallet_id)
        await _alert_customer(
            conn,
            wallet_id,
            f"Automatic recharge of {format_micros(claimed.amount_micros)} failed: "
            f"{result.error or 'declined'}"
            + (" The rule is now disabled after 3 failures in a row." if disabled else ""),
            dedupe_key=f"AUTO_RECHARGE_FAILED:{wallet_id}:{now.isoformat()}",
        )
        return "disabled" if disabled else "failed"


async def _pause_for_authentication(
    conn, rule: AutoRechargeRule, claimed: RechargeAttempt, result: GatewayResult
) -> None:
    """The card needs its holder: the rule pauses (not a failure) and the customer is told."""
    now = clock.now()
    await (
        AutoRechargeRule.filter(id=rule.id)
        .using_db(conn)
        .update(
            enabled=False,
            last_attempt_at=now,
            last_error="authentication required: pay once by card, then enable the rule again",
        )
    )
    await _stop_crossing_checks(conn, claimed.wallet_id)
    await _alert_customer(
        conn,
        claimed.wallet_id,
        f"Automatic recharge of {format_micros(claimed.amount_micros)} needs the card holder"
        " to authenticate the payment; the rule is paused until it is enabled again.",
        dedupe_key=f"AUTO_RECHARGE_AUTH:{claimed.wallet_id}:{now.isoformat()}",
    )


async def _stop_crossing_checks(conn, wallet_id: int) -> None:
    """A rule switched off: debits stop looking for a recharge crossing on this wallet."""
    await Wallet.filter(id=wallet_id).using_db(conn).update(recharge_threshold_micros=None)


async def _alert_customer(conn, wallet_id: int, message: str, *, dedupe_key: str) -> None:
    """AUTO_RECHARGE_FAILED to the wallet's customer and its partner."""
    wallet = await Wallet.get(id=wallet_id).using_db(conn)
    customer = await wallet.customer
    await alerts.raise_alert(
        conn,
        kind=AlertKind.AUTO_RECHARGE_FAILED,
        message=message,
        dedupe_key=dedupe_key,
        partner_id=customer.partner_id,
        customer_id=customer.id,
        wallet_id=wallet_id,
    )


async def retry_stale() -> dict[str, int]:
    """The jobs loop: PENDING attempts left behind for STALE_AFTER are asked again, same key."""
    stale = await RechargeAttempt.filter(
        status=RechargeAttemptStatus.PENDING, updated_at__lte=clock.now() - STALE_AFTER
    ).order_by("id")
    outcomes: dict[str, int] = {}
    for claimed in stale:
        try:
            outcome = await _ask_and_record(claimed)
        except Exception as error:  # the gateway is still unreachable: the next pass retries
            log.warning("recharge attempt %s still unresolved: %s", claimed.id, error)
            outcome = "unreachable"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
