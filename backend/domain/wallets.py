"""Customer wallets: top-ups, corrections, integration charges and wallet settings.

Every movement goes through ``ledger.post`` inside ``idempotency.run_once``,
so a retried call with the same key is answered with the first movement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet

from backend.domain import access, alerts, idempotency, ledger, locking, unit_of_work, validation
from backend.domain.access import Principal
from backend.domain.ledger import FundsPolicy
from backend.domain.models import LedgerEntry, LedgerEntryKind, Role, Wallet
from backend.domain.money import MAX_BALANCE_MICROS, check_micros
from backend.domain.unit_of_work import transaction


@dataclass(frozen=True)
class WalletMovement:
    wallet: Wallet
    entry: LedgerEntry
    replayed: bool


async def _move(
    principal: Principal,
    wallet_id: int,
    *,
    operation: str,
    amount_micros: int,
    kind: LedgerEntryKind,
    comment: str | None,
    idempotency_key: str | None,
    reference: str | None = None,
) -> WalletMovement:
    """One movement on a wallet the caller manages, at most once per idempotency key.

    The tenant check is folded into the movement's own statement (a wallet of
    another partner moves nothing and is then told apart as NOT_FOUND), and a
    movement without a key is that one statement: no BEGIN, no COMMIT.
    """
    if principal.role == Role.CUSTOMER:
        # A customer may see its wallet but not move money on it: FORBIDDEN for
        # its own, NOT_FOUND for any other (both raised here).
        await access.get_wallet_to_manage(principal, wallet_id)
    tenant = ledger.ANYONE if principal.is_admin else ledger.Tenant(partner_id=principal.partner_id)

    async def move(conn: BaseDBAsyncClient) -> ledger.Movement:
        return await ledger.post(
            conn,
            wallet_id=wallet_id,
            amount_micros=amount_micros,
            kind=kind,
            policy=FundsPolicy.REQUIRE_AVAILABLE,
            comment=comment,
            reference=reference,
            tenant=tenant,
        )

    if idempotency.validate_key(idempotency_key) is None:
        async with unit_of_work.single_statement() as conn:
            movement = await move(conn)
        return WalletMovement(wallet=movement.wallet, entry=movement.entry, replayed=False)

    made: list[ledger.Movement] = []

    async def action(conn: BaseDBAsyncClient) -> dict[str, Any]:
        movement = await move(conn)
        made.append(movement)
        return {"wallet_id": wallet_id, "entry_id": movement.entry_row["id"]}

    result, replayed = await idempotency.run_once(
        scope=principal.idempotency_scope,
        key=idempotency_key,
        operation=operation,
        request={"wallet": wallet_id, "amount": amount_micros, "comment": comment},
        action=action,
    )
    if replayed:
        entry = await LedgerEntry.get(id=result["entry_id"])
        return WalletMovement(wallet=await Wallet.get(id=wallet_id), entry=entry, replayed=True)
    # The wallet as this movement left it, from the movement's own statement:
    # no second read, and no later movement mixed into the payload.
    movement = made[0]
    return WalletMovement(wallet=movement.wallet, entry=movement.entry, replayed=False)


async def top_up(
    principal: Principal,
    *,
    wallet_id: int,
    amount_micros: int,
    comment: str | None = None,
    idempotency_key: str | None = None,
) -> WalletMovement:
    """Money paid in by the customer, recorded by its partner or the platform."""
    return await _move(
        principal,
        wallet_id,
        operation="topUpWallet",
        amount_micros=check_micros(amount_micros),
        kind=LedgerEntryKind.TOP_UP,
        comment=validation.comment(comment, required=False),
        idempotency_key=idempotency_key,
    )


async def adjust(
    principal: Principal,
    *,
    wallet_id: int,
    amount_micros: int,
    comment: str,
    idempotency_key: str | None = None,
) -> WalletMovement:
    """A signed correction with a reason; a negative one needs the funds available."""
    return await _move(
        principal,
        wallet_id,
        operation="adjustWallet",
        amount_micros=check_micros(amount_micros, allow_negative=True),
        kind=LedgerEntryKind.ADJUSTMENT,
        comment=validation.comment(comment, required=True),
        idempotency_key=idempotency_key,
    )


async def charge_integration(
    principal: Principal,
    *,
    wallet_id: int,
    amount_micros: int,
    comment: str,
    idempotency_key: str | None = None,
) -> WalletMovement:
    """Integration usage billed by the partner's systems; refused beyond ``available``."""
    return await _move(
        principal,
        wallet_id,
        operation="chargeIntegration",
        amount_micros=-check_micros(amount_micros),
        kind=LedgerEntryKind.INTEGRATION_CHARGE,
        comment=validation.comment(comment, required=True),
        idempotency_key=idempotency_key,
    )


def entries_query(
    wallet: Wallet,
    *,
    kind: LedgerEntryKind | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet:
    """The wallet's ledger with the ``Wallet.entries`` filters (GraphQL and CSV alike);
    ``since`` inclusive, ``until`` exclusive. The caller has already checked access."""
    query = LedgerEntry.filter(wallet_id=wallet.id)
    if kind is not None:
        query = query.filter(kind=kind)
    return access.within(query, since, until)


async def set_credit_limit(
    principal: Principal, *, wallet_id: int, credit_limit_micros: int
) -> Wallet:
    wallet = await access.get_wallet_to_manage(principal, wallet_id)
    wallet.credit_limit_micros = check_micros(
        credit_limit_micros, field="credit_limit", allow_zero=True, max_micros=MAX_BALANCE_MICROS
    )
    # Only this column: a concurrent movement's balance must not be overwritten.
    await Wallet.filter(id=wallet.id).update(credit_limit_micros=wallet.credit_limit_micros)
    return await Wallet.get(id=wallet.id)


async def set_low_balance_threshold(
    principal: Principal, *, wallet_id: int, threshold_micros: int | None
) -> Wallet:
    """A customer may set its own alert threshold; ``None`` turns the alert off."""
    wallet = await access.get_wallet(principal, wallet_id)
    access.require_role(principal, Role.ADMIN, Role.PARTNER, Role.CUSTOMER)
    micros = None
    if threshold_micros is not None:
        micros = check_micros(
            threshold_micros, field="threshold", allow_zero=True, max_micros=MAX_BALANCE_MICROS
        )
    async with transaction() as conn:
        # Moving the threshold past the balance is a crossing too, either way.
        current = await locking.lock_wallet(conn, wallet.id)
        await Wallet.filter(id=wallet.id).using_db(conn).update(low_balance_threshold_micros=micros)
        await alerts.settle(
            conn, alerts.LOW_BALANCE, {**current, "low_balance_threshold_micros": micros}
        )
    return await Wallet.get(id=wallet.id)
