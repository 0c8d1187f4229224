"""Channels: a WhatsApp number, active until a date."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend.api.context import loaders_of
from backend.api.core.types import upward
from backend.api.pagination import Connection, fetch_page, to_connection
from backend.domain import channels, models
from backend.domain.clock import clock

ChannelStatus = strawberry.enum(models.ChannelStatus)
MessagingTier = strawberry.enum(models.MessagingTier)

# A channel's customer is one area up (tenants imports this module).
CUSTOMER_MODULE = "backend.api.tenants.types"
# Named, not imported: ruff cannot see a lazily resolved name.
CustomerRef = Annotated["Customer", strawberry.lazy(CUSTOMER_MODULE)]  # noqa: F821


@strawberry.type
class Channel:
    id: strawberry.ID
    name: str
    phone_number: str
    phone_number_id: str | None
    status: ChannelStatus
    active_until: datetime | None
    days_remaining: int
    messaging_tier: MessagingTier
    created_at: datetime
    _model: strawberry.Private[models.Channel]

    @classmethod
    def from_instance(cls, channel: models.Channel) -> Channel:
        now = clock.now()
        return cls(
            id=strawberry.ID(str(channel.id)),
            name=channel.name,
            phone_number=channel.phone_number,
            phone_number_id=channel.phone_number_id,
            status=channels.effective_status(channel, now),
            active_until=channel.active_until,
            days_remaining=channels.days_remaining(channel, now),
            messaging_tier=models.MessagingTier(channel.messaging_tier),
            created_at=channel.created_at,
            _model=channel,
        )

    @strawberry.field
    async def customer(self, info: Info) -> CustomerRef:
        row = await loaders_of(info).customer.load(self._model.customer_id)
        return upward("Customer", CUSTOMER_MODULE).from_instance(row)

    @strawberry.field(
        description="Whole paid days deleteChannel would refund now (never free trial days)."
    )
    async def refundable_days(self, info: Info) -> int:
        if self._model.status == models.ChannelStatus.DELETED:
            return 0
        lots = await loaders_of(info).channel_lots.load(self._model.id)
        now = clock.now()
        return sum(channels.refundable_days(lot, now) for lot in lots)


async def channel_connection(
    query, first: int | None, after: str | None, status: models.ChannelStatus | None
) -> Connection[Channel]:
    query = channels.filter_by_status(query, status, clock.now())
    page = await fetch_page(query, first=first, after=after, newest_first=False)
    return to_connection(page, Channel.from_instance)
