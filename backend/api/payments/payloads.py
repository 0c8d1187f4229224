"""Payloads of the payment mutations."""

from __future__ import annotations

import strawberry

from backend.api.errors import UserError
from backend.api.payments.types import CardSetup, Payment, PaymentAccount, PaymentMethod


@strawberry.type
class PaymentPayload:
    payment: Payment | None = None
    replayed: bool = strawberry.field(
        default=False,
        description="True when the idempotency key matched an earlier call: the same payment.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PaymentAccountPayload:
    account: PaymentAccount | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CardSetupPayload:
    setup: CardSetup | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PaymentMethodsPayload:
    payment_methods: list[PaymentMethod] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)
