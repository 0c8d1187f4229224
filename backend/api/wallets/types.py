"""Wallets: money, its ledger, and the auto-recharge rule."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend.api.charging.types import Hold, HoldStatus
from backend.api.context import loaders_of
from backend.api.core.types import Money, upward
from backend.api.pagination import Connection, fetch_page, to_connection
from backend.api.payments.types import Payment, PaymentStatus, payment_connection
from backend.domain import models, wallets

LedgerEntryKind = strawberry.enum(models.LedgerEntryKind)

# A wallet's customer is one area up (tenants imports this module).
CUSTOMER_MODULE = "backend.api.tenants.types"
# Named, not imported: ruff cannot see a lazily resolved name.
CustomerRef = Annotated["Customer", strawberry.lazy(CUSTOMER_MODULE)]  # noqa: F821


@strawberry.type
class LedgerEntry:
    id: strawberry.ID
    kind: LedgerEntryKind
    amount: Money
    balance_after: Money
    comment: str | None
    reference: str | None
    created_at: datetime

    @classmethod
    def from_instance(cls, entry: models.LedgerEntry, currency_code: str) -> LedgerEntry:
        return cls(
            id=strawberry.ID(str(entry.id)),
            kind=models.LedgerEntryKind(entry.kind),
            amount=Money.of(entry.amount_micros, currency_code),
            balance_after=Money.of(entry.balance_after_micros, currency_code),
            comment=entry.comment,
            reference=entry.reference,
            created_at=entry.created_at,
        )


@strawberry.type
class AutoRecharge:
    enabled: bool
    threshold: Money
    amount: Money
    daily_cap: Money
    consecutive_failures: int = strawberry.field(
        description="After 3 in a row the rule disables itself and raises AUTO_RECHARGE_FAILED."
    )
    last_attempt_at: datetime | None
    last_error: str | None
    _wallet_id: strawberry.Private[int]

    @classmethod
    def from_instance(cls, rule: models.AutoRechargeRule, currency_code: str) -> AutoRecharge:
        return cls(
            enabled=rule.enabled,
            threshold=Money.of(rule.threshold_micros, currency_code),
            amount=Money.of(rule.amount_micros, currency_code),
            daily_cap=Money.of(rule.daily_cap_micros, currency_code),
            consecutive_failures=rule.consecutive_failures,
            last_attempt_at=rule.last_attempt_at,
            last_error=rule.last_error,
            _wallet_id=rule.wallet_id,
        )

    @strawberry.field(
        description="Set while a recharge is in flight: the gateway was asked and its answer "
        "is not recorded yet (the jobs loop asks again with the same idempotency key). "
        "Long-pending means the gateway is not answering; no other recharge starts meanwhile."
    )
    async def pending_since(self) -> datetime | None:
        pending = await models.RechargeAttempt.get_or_none(
            wallet_id=self._wallet_id, status=models.RechargeAttemptStatus.PENDING
        )
        return pending.created_at if pending else None


@strawberry.type
class Wallet:
    id: strawberry.ID
    balance: Money
    available: Money
    credit_limit: Money
    held: Money = strawberry.field(description="Money reserved by active broadcast holds.")
    low_balance_threshold: Money | None
    _model: strawberry.Private[models.Wallet]

    @classmethod
    def from_instance(cls, wallet: models.Wallet) -> Wallet:
        currency = wallet.currency_code
        threshold = wallet.low_balance_threshold_micros
        return cls(
            id=strawberry.ID(str(wallet.id)),
            balance=Money.of(wallet.balance_micros, currency),
            available=Money.of(wallet.available_micros, currency),
            credit_limit=Money.of(wallet.credit_limit_micros, currency),
            held=Money.of(wallet.held_micros, currency),
            low_balance_threshold=None if threshold is None else Money.of(threshold, currency),
            _model=wallet,
        )

    @strawberry.field
    async def customer(self, info: Info) -> CustomerRef:
        row = await loaders_of(info).customer.load(self._model.customer_id)
        return upward("Customer", CUSTOMER_MODULE).from_instance(row)

    @strawberry.field
    async def entries(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        kind: LedgerEntryKind | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Connection[LedgerEntry]:
        """The wallet's ledger, newest first; ``since`` inclusive, ``until`` exclusive."""
        query = wallets.entries_query(self._model, kind=kind, since=since, until=until)
        page = await fetch_page(query, first=first, after=after, newest_first=True)
        currency = self._model.currency_code
        return to_connection(page, lambda e: LedgerEntry.from_instance(e, currency))

    @strawberry.field
    async def auto_recharge(self, info: Info) -> AutoRecharge | None:
        # Through a loader: a page of 200 customers' wallets is one query, not 200.
        rule = await loaders_of(info).recharge_rule_by_wallet.load(self._model.id)
        return AutoRecharge.from_instance(rule, self._model.currency_code) if rule else None

    @strawberry.field(description="Broadcast holds, newest first.")
    async def holds(
        self, first: int | None = None, after: str | None = None, status: HoldStatus | None = None
    ) -> Connection[Hold]:
        query = models.Hold.filter(wallet_id=self._model.id)
        if status is not None:
            query = query.filter(status=status)
        page = await fetch_page(query, first=first, after=after, newest_first=True)
        currency = self._model.currency_code
        return to_connection(page, lambda h: Hold.from_instance(h, currency))

    @strawberry.field(description="Card payments into this wallet, newest first.")
    async def payments(
        self,
        first: int | None = None,
        after: str | None = None,
        status: PaymentStatus | None = None,
    ) -> Connection[Payment]:
        query = models.Payment.filter(wallet_id=self._model.id)
        return await payment_connection(query, first, after, status)
