"""Payloads of the channel mutations."""

from __future__ import annotations

import strawberry

from backend.api.channels.types import Channel
from backend.api.days.types import DayEntry
from backend.api.errors import UserError


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
