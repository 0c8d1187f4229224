"""Days: the billing history of a partner's day balance."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from backend.api.channels.types import Channel
from backend.api.context import loaders_of
from backend.domain import models

DayEntryKind = strawberry.enum(models.DayEntryKind)


@strawberry.type
class DayEntry:
    id: strawberry.ID
    kind: DayEntryKind
    days: int
    day_balance_after: int
    comment: str
    created_at: datetime
    _channel_id: strawberry.Private[int | None]

    @classmethod
    def from_instance(cls, entry: models.DayEntry) -> DayEntry:
        return cls(
            id=strawberry.ID(str(entry.id)),
            kind=models.DayEntryKind(entry.kind),
            days=entry.days,
            day_balance_after=entry.day_balance_after,
            comment=entry.comment,
            created_at=entry.created_at,
            _channel_id=entry.channel_id,
        )

    @strawberry.field
    async def channel(self, info: Info) -> Channel | None:
        if self._channel_id is None:
            return None
        return Channel.from_instance(await loaders_of(info).channel.load(self._channel_id))
