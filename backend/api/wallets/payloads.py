"""Payloads of the wallet mutations."""

from __future__ import annotations

import strawberry

from backend.api.errors import UserError
from backend.api.wallets.types import LedgerEntry, Wallet


@strawberry.type
class WalletPayload:
    wallet: Wallet | None = None
    entry: LedgerEntry | None = None
    replayed: bool = strawberry.field(
        default=False,
        description="True when an idempotency key matched an earlier call; nothing moved again.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)
