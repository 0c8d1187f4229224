"""Payloads of the invoice mutations."""

from __future__ import annotations

import strawberry

from backend.api.errors import UserError
from backend.api.invoices.types import Invoice


@strawberry.type
class InvoicePayload:
    invoice: Invoice | None = None
    replayed: bool = strawberry.field(
        default=False,
        description="True when an idempotency key matched an earlier payment; nothing moved again.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class InvoicesPayload:
    invoices: list[Invoice] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)
