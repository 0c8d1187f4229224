"""Payloads of the charging mutations."""

from __future__ import annotations

import strawberry

from backend.api.charging.types import Conversation, Hold, Rate, WebhookEvent
from backend.api.errors import UserError
from backend.api.wallets.types import LedgerEntry


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
