"""Mutation payloads: the result, or userErrors and nothing else."""

from __future__ import annotations

import strawberry

from backend.api.errors import UserError
from backend.api.types import (
    AlertWebhook,
    Channel,
    Conversation,
    Customer,
    DayEntry,
    Hold,
    Invoice,
    LedgerEntry,
    Partner,
    Plan,
    Rate,
    Role,
    Wallet,
    WebhookEvent,
)


@strawberry.type
class PartnerPayload:
    partner: Partner | None = None
    api_key: str | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CustomerPayload:
    customer: Customer | None = None
    api_key: str | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class WalletPayload:
    wallet: Wallet | None = None
    entry: LedgerEntry | None = None
    replayed: bool = strawberry.field(
        default=False,
        description="True when an idempotency key matched an earlier call; nothing moved again.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DaysPayload:
    partner: Partner | None = None
    entry: DayEntry | None = None
    replayed: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PlanPayload:
    plan: Plan | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ApiKeyPayload:
    api_key: str | None = None
    key_prefix: str | None = None
    role: Role | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ChannelPayload:
    channel: Channel | None = None
    day_entry: DayEntry | None = None
    replayed: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ChannelsPayload:
    channels: list[Channel] = strawberry.field(default_factory=list)
    day_entries: list[DayEntry] = strawberry.field(default_factory=list)
    replayed: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ConversationPayload:
    conversation: Conversation | None = None
    entry: LedgerEntry | None = None
    duplicate: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class HoldPayload:
    hold: Hold | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RateCardPayload:
    rates: list[Rate] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class WebhookEventPayload:
    event: WebhookEvent | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AlertWebhookPayload:
    webhook: AlertWebhook | None = None
    secret: str | None = strawberry.field(
        default=None,
        description="Signs every POST (X-Daybook-Signature: sha256=HMAC); shown at registration only.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


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
