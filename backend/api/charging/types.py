"""Charging: conversations, broadcast holds, the rate card and the stored webhooks."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from backend.api.channels.types import Channel
from backend.api.context import loaders_of
from backend.api.core.types import Money
from backend.domain import models
from backend.webhooks import processing

ConversationCategory = strawberry.enum(models.ConversationCategory)
ConversationOrigin = strawberry.enum(models.ConversationOrigin)
PricingModel = strawberry.enum(models.PricingModel)
HoldStatus = strawberry.enum(models.HoldStatus)
WebhookEventStatus = strawberry.enum(models.WebhookEventStatus)


@strawberry.type
class Hold:
    id: strawberry.ID
    amount: Money
    remaining: Money
    status: HoldStatus
    recipients: int
    expires_at: datetime
    category: ConversationCategory
    created_at: datetime

    @classmethod
    def from_instance(cls, hold: models.Hold, currency_code: str) -> Hold:
        return cls(
            id=strawberry.ID(str(hold.id)),
            amount=Money.of(hold.amount_micros, currency_code),
            remaining=Money.of(hold.remaining_micros, currency_code),
            status=models.HoldStatus(hold.status),
            recipients=hold.recipients,
            expires_at=hold.expires_at,
            category=models.ConversationCategory(hold.category),
            created_at=hold.created_at,
        )


@strawberry.type
class Rate:
    market: str
    category: ConversationCategory
    price: Money
    effective_from: datetime

    @classmethod
    def from_instance(cls, rate: models.Rate, card: models.RateCard) -> Rate:
        return cls(
            market=rate.market,
            category=models.ConversationCategory(rate.category),
            price=Money.of(rate.price_micros, card.currency_code),
            effective_from=card.effective_from,
        )


@strawberry.type
class Conversation:
    id: strawberry.ID
    external_id: str
    category: ConversationCategory
    origin: ConversationOrigin
    pricing_model: PricingModel
    market: str
    recipient: str
    billable: bool
    price: Money
    opened_at: datetime
    _model: strawberry.Private[models.Conversation]

    @classmethod
    def from_instance(cls, conversation: models.Conversation, currency_code: str) -> Conversation:
        return cls(
            id=strawberry.ID(str(conversation.id)),
            external_id=conversation.external_id,
            category=models.ConversationCategory(conversation.category),
            origin=models.ConversationOrigin(conversation.origin),
            pricing_model=models.PricingModel(conversation.pricing_model),
            market=conversation.market,
            recipient=conversation.recipient,
            billable=conversation.billable,
            price=Money.of(conversation.price_micros, currency_code),
            opened_at=conversation.opened_at,
            _model=conversation,
        )

    @strawberry.field
    async def channel(self, info: Info) -> Channel:
        return Channel.from_instance(await loaders_of(info).channel.load(self._model.channel_id))


@strawberry.type(description="A WhatsApp webhook as received, and what became of it.")
class WebhookEvent:
    id: strawberry.ID
    partner_id: strawberry.ID
    status: WebhookEventStatus
    attempts: int
    last_error: str | None
    received_at: datetime
    processed_at: datetime | None
    payload: JSON | None

    @classmethod
    def from_instance(cls, event: models.WebhookEvent) -> WebhookEvent:
        payload = processing.parse_body(event.body)
        return cls(
            id=strawberry.ID(str(event.id)),
            partner_id=strawberry.ID(str(event.partner_id)),
            status=models.WebhookEventStatus(event.status),
            attempts=event.attempts,
            last_error=event.last_error,
            received_at=event.received_at,
            processed_at=event.processed_at,
            payload=None if isinstance(payload, processing.Unreadable) else payload,
        )
