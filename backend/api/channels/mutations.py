"""createChannel, extendChannel, extendChannels, deleteChannel, setMessagingTier."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from backend.api.channels.payloads import ChannelPayload, ChannelsPayload
from backend.api.channels.types import Channel, MessagingTier
from backend.api.context import principal_of
from backend.api.days.types import DayEntry
from backend.api.errors import payload_or_user_errors
from backend.api.inputs import id_of
from backend.domain import channels
from backend.domain.channels import ChannelChange, Extension


@strawberry.input
class ExtendChannelItem:
    channel_id: strawberry.ID
    days: int


def _change_payload(change: ChannelChange) -> ChannelPayload:
    return ChannelPayload(
        channel=Channel.from_instance(change.channel),
        day_entry=DayEntry.from_instance(change.day_entry) if change.day_entry else None,
    )


def _single(extension: Extension) -> ChannelPayload:
    return ChannelPayload(
        channel=Channel.from_instance(extension.channels[0]),
        day_entry=DayEntry.from_instance(extension.day_entries[0]),
        replayed=extension.replayed,
    )


@strawberry.type
class ChannelMutations:
    @strawberry.mutation(description="A new channel: PENDING, or on a 5-day trial.")
    async def create_channel(
        self,
        info: Info,
        customer_id: strawberry.ID,
        name: str,
        phone_number: str,
        phone_number_id: str | None = None,
        trial: bool | None = None,
        fund_trial_from_balance: bool | None = None,
    ) -> ChannelPayload:
        async def build() -> ChannelPayload:
            channels.require_allocator(principal_of(info))
            return _change_payload(
                await channels.create_channel(
                    principal_of(info),
                    customer_id=id_of(customer_id, "customerId"),
                    name=name,
                    phone_number=phone_number,
                    phone_number_id=phone_number_id,
                    trial=bool(trial),
                    fund_trial_from_balance=bool(fund_trial_from_balance),
                )
            )

        return await payload_or_user_errors(ChannelPayload, build)

    @strawberry.mutation(
        description="activeUntil = max(now, activeUntil) + days, from the day balance."
    )
    async def extend_channel(
        self,
        info: Info,
        channel_id: strawberry.ID,
        days: int,
        comment: str,
        idempotency_key: str | None = None,
    ) -> ChannelPayload:
        async def build() -> ChannelPayload:
            channels.require_allocator(principal_of(info))
            return _single(
                await channels.extend_channel(
                    principal_of(info),
                    channel_id=id_of(channel_id, "channelId"),
                    days=days,
                    comment=comment,
                    idempotency_key=idempotency_key,
                )
            )

        return await payload_or_user_errors(ChannelPayload, build)

    @strawberry.mutation(description="Extend many channels at once; all or nothing.")
    async def extend_channels(
        self,
        info: Info,
        items: list[ExtendChannelItem],
        comment: str,
        idempotency_key: str | None = None,
    ) -> ChannelsPayload:
        async def build() -> ChannelsPayload:
            channels.require_allocator(principal_of(info))
            extension = await channels.extend_channels(
                principal_of(info),
                items=[
                    (id_of(item.channel_id, ["items", str(n), "channelId"]), item.days)
                    for n, item in enumerate(items)
                ],
                comment=comment,
                idempotency_key=idempotency_key,
            )
            return ChannelsPayload(
                channels=[Channel.from_instance(c) for c in extension.channels],
                day_entries=[DayEntry.from_instance(e) for e in extension.day_entries],
                replayed=extension.replayed,
            )

        return await payload_or_user_errors(ChannelsPayload, build)

    @strawberry.mutation(description="Delete; the unused whole paid days go back to the partner.")
    async def delete_channel(
        self, info: Info, channel_id: strawberry.ID, comment: str
    ) -> ChannelPayload:
        async def build() -> ChannelPayload:
            channels.require_allocator(principal_of(info))
            return _change_payload(
                await channels.delete_channel(
                    principal_of(info), channel_id=id_of(channel_id, "channelId"), comment=comment
                )
            )

        return await payload_or_user_errors(ChannelPayload, build)

    @strawberry.mutation
    async def set_messaging_tier(
        self, info: Info, channel_id: strawberry.ID, tier: MessagingTier
    ) -> ChannelPayload:
        async def build() -> ChannelPayload:
            channels.require_allocator(principal_of(info))
            channel = await channels.set_messaging_tier(
                principal_of(info), channel_id=id_of(channel_id, "channelId"), tier=tier
            )
            return ChannelPayload(channel=Channel.from_instance(channel))

        return await payload_or_user_errors(ChannelPayload, build)
