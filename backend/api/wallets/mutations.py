"""topUpWallet, adjustWallet, chargeIntegration, setCreditLimit, setLowBalanceThreshold."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry
from strawberry.types import Info

from backend.api.context import principal_of
from backend.api.errors import payload_or_user_errors
from backend.api.inputs import id_of, micros_of
from backend.api.scalars import DecimalString
from backend.api.wallets.payloads import WalletPayload
from backend.api.wallets.types import LedgerEntry, Wallet
from backend.domain import recharge, wallets
from backend.domain.wallets import WalletMovement


def _movement_payload(movement: WalletMovement) -> WalletPayload:
    return WalletPayload(
        wallet=Wallet.from_instance(movement.wallet),
        entry=LedgerEntry.from_instance(movement.entry, movement.wallet.currency_code),
        replayed=movement.replayed,
    )


async def _move(
    info: Info,
    operation: Callable[..., Awaitable[WalletMovement]],
    wallet_id: strawberry.ID,
    amount: str,
    comment: str | None,
    idempotency_key: str | None,
) -> WalletPayload:
    """topUpWallet, adjustWallet and chargeIntegration: parse, move, answer the same way."""

    async def build() -> WalletPayload:
        return _movement_payload(
            await operation(
                principal_of(info),
                wallet_id=id_of(wallet_id, "walletId"),
                amount_micros=micros_of(amount),
                comment=comment,
                idempotency_key=idempotency_key,
            )
        )

    return await payload_or_user_errors(WalletPayload, build)


@strawberry.input
class AutoRechargeInput:
    enabled: bool
    threshold: DecimalString
    amount: DecimalString
    daily_cap: DecimalString


@strawberry.type
class WalletMutations:
    @strawberry.mutation(
        description="Recharge the wallet by `amount` when it falls below `threshold`."
    )
    async def configure_auto_recharge(
        self, info: Info, wallet_id: strawberry.ID, input: AutoRechargeInput
    ) -> WalletPayload:
        async def build() -> WalletPayload:
            wallet = await recharge.configure(
                principal_of(info),
                wallet_id=id_of(wallet_id, "walletId"),
                enabled=input.enabled,
                threshold_micros=micros_of(input.threshold, "threshold"),
                amount_micros=micros_of(input.amount, "amount"),
                daily_cap_micros=micros_of(input.daily_cap, "dailyCap"),
            )
            return WalletPayload(wallet=Wallet.from_instance(wallet))

        return await payload_or_user_errors(WalletPayload, build)

    @strawberry.mutation
    async def top_up_wallet(
        self,
        info: Info,
        wallet_id: strawberry.ID,
        amount: DecimalString,
        comment: str | None = None,
        idempotency_key: str | None = None,
    ) -> WalletPayload:
        return await _move(info, wallets.top_up, wallet_id, amount, comment, idempotency_key)

    @strawberry.mutation
    async def adjust_wallet(
        self,
        info: Info,
        wallet_id: strawberry.ID,
        amount: DecimalString,
        comment: str,
        idempotency_key: str | None = None,
    ) -> WalletPayload:
        return await _move(info, wallets.adjust, wallet_id, amount, comment, idempotency_key)

    @strawberry.mutation
    async def charge_integration(
        self,
        info: Info,
        wallet_id: strawberry.ID,
        amount: DecimalString,
        comment: str,
        idempotency_key: str | None = None,
    ) -> WalletPayload:
        return await _move(
            info, wallets.charge_integration, wallet_id, amount, comment, idempotency_key
        )

    @strawberry.mutation
    async def set_credit_limit(
        self, info: Info, wallet_id: strawberry.ID, credit_limit: DecimalString
    ) -> WalletPayload:
        async def build() -> WalletPayload:
            wallet = await wallets.set_credit_limit(
                principal_of(info),
                wallet_id=id_of(wallet_id, "walletId"),
                credit_limit_micros=micros_of(credit_limit, "creditLimit"),
            )
            return WalletPayload(wallet=Wallet.from_instance(wallet))

        return await payload_or_user_errors(WalletPayload, build)

    @strawberry.mutation
    async def set_low_balance_threshold(
        self, info: Info, wallet_id: strawberry.ID, threshold: DecimalString | None = None
    ) -> WalletPayload:
        async def build() -> WalletPayload:
            threshold_micros = None
            if threshold is not None:
                threshold_micros = micros_of(threshold, "threshold")
            wallet = await wallets.set_low_balance_threshold(
                principal_of(info),
                wallet_id=id_of(wallet_id, "walletId"),
                threshold_micros=threshold_micros,
            )
            return WalletPayload(wallet=Wallet.from_instance(wallet))

        return await payload_or_user_errors(WalletPayload, build)
