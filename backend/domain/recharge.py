"""Auto-recharge: a wallet that falls below its rule's threshold asks the payment gateway for more.

- Once per crossing: the movement that takes the balance from at-or-above the
  threshold to below it schedules one attempt; debits serialise on the wallet
  row, so however many cross together, one of them is the crossing.
- After commit: the gateway is called only once the debit has committed
  (``outbox.after_commit``), and a success posts an AUTO_RECHARGE entry in its
  own transaction.
- At most ``daily_cap`` per UTC day, counted from the day's AUTO_RECHARGE entries.
- A failure raises AUTO_RECHARGE_FAILED; three in a row disable the rule.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time
from typing import Protocol

from tortoise.functions import Sum

from backend.db import transaction
from backend.domain import access, alerts, ledger
from backend.domain.access import Principal
from backend.domain.clock import clock
from backend.domain.errors import InvalidAmount
from backend.domain.ledger import FundsPolicy
from backend.domain.models import (
    AlertKind,
    AutoRechargeRule,
    LedgerEntry,
    LedgerEntryKind,
    Role,
    Wallet,
)
from backend.domain.money import MAX_MOVEMENT_MICROS, format_micros, parse_amount
from backend.events import outbox

MAX_FAILURES = 3


@dataclass(frozen=True)
class GatewayResult:
    ok: bool
    reference: str | None = None
    error: str | None = None


class PaymentGateway(Protocol):
    async def charge(
        self, *, wallet_id: int, amount_micros: int, currency: str
    ) -> GatewayResult: ...


class SandboxGateway:
    """Succeeds at once, as a test card would."""

    async def charge(self, *, wallet_id: int, amount_micros: int, currency: str) -> GatewayResult:
        return GatewayResult(ok=True, reference=f"sandbox_{secrets.token_hex(6)}")


class DecliningGateway:
    """Declines every charge (for tests and for drills)."""

    async def charge(self, *, wallet_id: int, amount_micros: int, currency: str) -> GatewayResult:
        return GatewayResult(ok=False, error="card declined")


class _GatewayHolder:
    def __init__(self) -> None:
        self.current: PaymentGateway = SandboxGateway()

    def use(self, gateway: PaymentGateway) -> None:
        self.current = gateway


gateway = _GatewayHolder()


async def configure(
    principal: Principal,
    *,
    wallet_id: str,
    enabled: bool,
    threshold: str,
    amount: str,
    daily_cap: str,
) -> Wallet:
    """``configureAutoRecharge``: the customer or its partner sets the rule."""
    access.require_role(principal, Role.ADMIN, Role.PARTNER, Role.CUSTOMER)
    wallet = await access.get_wallet(principal, wallet_id)
    threshold_micros = parse_amount(threshold, field="threshold", allow_zero=True)
    amount_micros = parse_amount(amount, field="amount")
    cap_micros = parse_amount(daily_cap, field="dailyCap", max_micros=MAX_MOVEMENT_MICROS)
    if cap_micros < amount_micros:
        raise InvalidAmount("The daily cap cannot be below one recharge.", field="dailyCap")
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


def on_balance_moved(*, wallet_id: int, before: int, after: int, threshold: int | None) -> None:
    """Called by the ledger inside the movement's transaction: schedule one attempt per crossing."""
    if threshold is not None and before >= threshold > after:
        outbox.after_commit(lambda: attempt(wallet_id))


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

    The rule row stays locked from the checks to the posting, so two attempts
    for one wallet (two crossings close together) run one after the other and
    the second sees the first's recharge: no double charge, no cap overrun.
    The gateway call is made under that lock; it blocks only other recharges
    of the same wallet, never its debits.
    """
    async with transaction() as conn:
        rule = (
            await AutoRechargeRule.filter(wallet_id=wallet_id, enabled=True)
            .select_for_update()
            .using_db(conn)
            .first()
        )
        if rule is None:
            return "no rule"
        wallet = await Wallet.get(id=wallet_id).using_db(conn)
        if wallet.balance_micros >= rule.threshold_micros:
            return "not needed"
        now = clock.now()
        if await recharged_today(wallet_id, now) + rule.amount_micros > rule.daily_cap_micros:
            return "daily cap reached"
        result = await gateway.current.charge(
            wallet_id=wallet_id, amount_micros=rule.amount_micros, currency=wallet.currency_code
        )
        if result.ok:
            await ledger.post(
                conn,
                wallet_id=wallet_id,
                amount_micros=rule.amount_micros,
                kind=LedgerEntryKind.AUTO_RECHARGE,
                policy=FundsPolicy.REQUIRE_AVAILABLE,
                comment="Automatic recharge",
                reference=result.reference,
            )
            await (
                AutoRechargeRule.filter(id=rule.id)
                .using_db(conn)
                .update(consecutive_failures=0, last_attempt_at=now, last_error=None)
            )
            return "recharged"
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
            await Wallet.filter(id=wallet_id).using_db(conn).update(recharge_threshold_micros=None)
        customer = await wallet.customer
        await alerts.raise_alert(
            conn,
            kind=AlertKind.AUTO_RECHARGE_FAILED,
            message=(
                f"Automatic recharge of {format_micros(rule.amount_micros)} failed: "
                f"{result.error or 'declined'}"
                + (" The rule is now disabled after 3 failures in a row." if disabled else "")
            ),
            dedupe_key=f"AUTO_RECHARGE_FAILED:{wallet_id}:{now.isoformat()}",
            partner_id=customer.partner_id,
            customer_id=customer.id,
            wallet_id=wallet_id,
        )
        return "disabled" if disabled else "failed"
