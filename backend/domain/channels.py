"""Channels and the days that keep them alive: create (with trials), extend, delete, expire.

Days move only through ``day_ledger``; every allocation is also kept as a
``ChannelLot`` covering ``[starts_at, ends_at)``, so what a deletion refunds
is computed from, and recorded on, the lots themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from backend.db import row_of
from backend.domain import access, alerts, day_ledger, idempotency, unit_of_work, validation
from backend.domain.access import Principal
from backend.domain.clock import clock
from backend.domain.day_ledger import DayItem
from backend.domain.errors import (
    ChannelDeleted,
    DuplicateChannel,
    InvalidArgument,
    InvalidPhoneNumber,
    NotFound,
    PhoneNumberIdInUse,
    PhoneNumberInUse,
    TrialAlreadyUsed,
    TrialNotEligible,
)
from backend.domain.locking import lock_channels
from backend.domain.models import (
    Channel,
    ChannelLot,
    ChannelStatus,
    Customer,
    DayEntry,
    DayEntryKind,
    LotKind,
    MessagingTier,
    Partner,
    Role,
    TrialClaim,
)
from backend.domain.unit_of_work import transaction
from backend.events import changes

DAY = timedelta(days=1)
TRIAL_DAYS = 5
MAX_EXTENSION_DAYS = 3650
MAX_BULK_ITEMS = 1000
EXPIRING_WITHIN = timedelta(days=3)
LIVE = (ChannelStatus.TRIAL, ChannelStatus.ACTIVE)


# ---- reading --------------------------------------------------------------


def effective_status(channel: Channel, now: datetime) -> ChannelStatus:
    """A live channel past its ``active_until`` is EXPIRED, even before the job marks it."""
    status = ChannelStatus(channel.status)
    if status in LIVE and (channel.active_until is None or channel.active_until <= now):
        return ChannelStatus.EXPIRED
    return status


def days_remaining(channel: Channel, now: datetime) -> int:
    """Whole days left; 0 when the channel is not active."""
    if effective_status(channel, now) not in LIVE:
        return 0
    return int((channel.active_until - now) // DAY)


def filter_by_status(query: QuerySet, status: ChannelStatus | None, now: datetime) -> QuerySet:
    """Filter on the *effective* status (see ``effective_status``)."""
    if status is None:
        return query
    if status in LIVE:
        return query.filter(status=status, active_until__gt=now)
    if status == ChannelStatus.EXPIRED:
        return query.filter(
            Q(status=ChannelStatus.EXPIRED) | Q(status__in=list(LIVE), active_until__lte=now)
        )
    return query.filter(status=status)


async def get_channel(principal: Principal, channel_id: int, field: str = "channel_id") -> Channel:
    channel = await Channel.get_or_none(id=channel_id)
    if channel is None or not access.can_see_customer_of(
        principal, channel.partner_id, channel.customer_id
    ):
        raise NotFound("No such channel.", field=field)
    return channel


# ---- validation -----------------------------------------------------------


def normalise_phone_number(text: str) -> str:
    """E.164 (``+14155550123``) via libphonenumber; the number must be a real, valid one."""
    raw = (text or "").strip()
    if not raw.startswith("+"):
        raise InvalidPhoneNumber(
            "Give the number in international form, starting with + and the country code.",
            field="phone_number",
        )
    try:
        parsed = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhoneNumber(
            f"{text!r} is not a phone number.", field="phone_number"
        ) from error
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(f"{text!r} is not a valid phone number.", field="phone_number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _phone_number_id(text: str | None) -> str | None:
    if text is None:
        return None
    value = text.strip()
    if not value or len(value) > 64 or not value.isascii() or not value.isalnum():
        raise InvalidArgument(
            "phoneNumberId is WhatsApp's id for the number: 1 to 64 letters or digits.",
            field="phone_number_id",
        )
    return value


def _extension_days(days: int, field: str | list[Any] = "days") -> int:
    return validation.whole_days(days, field=field, maximum=MAX_EXTENSION_DAYS)


def require_allocator(principal: Principal) -> None:
    """Days are the partner's: only the partner (or the platform) gives or takes them."""
    access.require_role(principal, Role.ADMIN, Role.PARTNER)


# ---- creating ---------------------------------------------------------------


@dataclass(frozen=True)
class ChannelChange:
    channel: Channel
    day_entry: DayEntry | None


async def create_channel(
    principal: Principal,
    *,
    customer_id: int,
    name: str,
    phone_number: str,
    phone_number_id: str | None = None,
    trial: bool = False,
    fund_trial_from_balance: bool = False,
) -> ChannelChange:
    require_allocator(principal)
    customer: Customer = await access.get_customer(principal, customer_id)
    clean_name = validation.name(name)
    number = normalise_phone_number(phone_number)
    number_id = _phone_number_id(phone_number_id)
    partner = await Partner.get(id=customer.partner_id)
    now = clock.now()
    if trial and not partner.trial_eligible and not fund_trial_from_balance:
        raise TrialNotEligible(
            "This partner has no free trials; set fundTrialFromBalance to pay the "
            f"{TRIAL_DAYS} days from the day balance.",
            field="trial",
        )
    try:
        async with transaction() as conn:
            await _refuse_live_duplicates(number, number_id)
            channel = await Channel.create(
                partner_id=partner.id,
                customer_id=customer.id,
                name=clean_name,
                phone_number=number,
                phone_number_id=number_id,
                status=ChannelStatus.TRIAL if trial else ChannelStatus.PENDING,
                active_until=now + TRIAL_DAYS * DAY if trial else None,
                created_at=now,
                using_db=conn,
            )
            entry = None
            if trial:
                entry = await _start_trial(conn, partner, channel, now)
            _changed(channel)
    except IntegrityError as error:
        # Two creations raced past the checks above; the unique indexes decided.
        await _refuse_live_duplicates(number, number_id)
        if trial and await TrialClaim.exists(phone_number=number):
            raise TrialAlreadyUsed("This phone number has had its trial.", field="trial") from error
        raise
    return ChannelChange(channel=channel, day_entry=entry)


async def _refuse_live_duplicates(number: str, number_id: str | None) -> None:
    live = Channel.exclude(status=ChannelStatus.DELETED)
    if await live.filter(phone_number=number).exists():
        raise PhoneNumberInUse("Another live channel has this phone number.", field="phone_number")
    if number_id and await live.filter(phone_number_id=number_id).exists():
        raise PhoneNumberIdInUse(
            "Another live channel has this phoneNumberId.", field="phone_number_id"
        )


async def _start_trial(
    conn: BaseDBAsyncClient, partner: Partner, channel: Channel, now: datetime
) -> DayEntry:
    if await TrialClaim.filter(phone_number=channel.phone_number).using_db(conn).exists():
        raise TrialAlreadyUsed("This phone number has had its trial.", field="trial")
    await TrialClaim.create(
        phone_number=channel.phone_number, channel_id=channel.id, created_at=now, using_db=conn
    )
    if partner.trial_eligible:
        kind, lot_kind, days = DayEntryKind.TRIAL, LotKind.TRIAL, 0
        comment = f"Free {TRIAL_DAYS}-day trial for {channel.phone_number}"
    else:
        kind, lot_kind, days = DayEntryKind.TRIAL_FUNDED, LotKind.PAID, -TRIAL_DAYS
        comment = f"{TRIAL_DAYS}-day trial for {channel.phone_number}, paid from the balance"
    movement = await day_ledger.post(
        conn, partner_id=partner.id, days=days, kind=kind, comment=comment, channel_id=channel.id
    )
    await ChannelLot.create(
        channel_id=channel.id,
        partner_id=partner.id,
        kind=lot_kind,
        days=TRIAL_DAYS,
        starts_at=now,
        ends_at=now + TRIAL_DAYS * DAY,
        day_entry_id=movement.entry.id,
        comment=comment,
        created_at=now,
        using_db=conn,
    )
    return movement.entry


# ---- extending ---------------------------------------------------------------


@dataclass(frozen=True)
class Extension:
    channels: list[Channel]
    day_entries: list[DayEntry]
    replayed: bool


async def extend_channel(
    principal: Principal,
    *,
    channel_id: int,
    days: int,
    comment: str,
    idempotency_key: str | None = None,
) -> Extension:
    return await extend_channels(
        principal,
        items=[(channel_id, days)],
        comment=comment,
        idempotency_key=idempotency_key,
        operation="extendChannel",
        single=True,
    )


async def extend_channels(
    principal: Principal,
    *,
    items: list[tuple[int, int]],
    comment: str,
    idempotency_key: str | None = None,
    operation: str = "extendChannels",
    single: bool = False,
) -> Extension:
    """All or nothing: every channel gets its days, or none does and nothing moves.

    ``activeUntil = max(now, activeUntil) + days``; the channel becomes ACTIVE.
    """
    require_allocator(principal)
    clean_comment = validation.comment(comment, required=True)
    if not items:
        raise InvalidArgument("Give at least one channel to extend.", field="items")
    if len(items) > MAX_BULK_ITEMS:
        raise InvalidArgument(f"At most {MAX_BULK_ITEMS} channels per call.", field="items")
    wanted: dict[int, int] = {}
    for n, (cid, days) in enumerate(items):
        field = "channel_id" if single else ["items", str(n), "channel_id"]
        if cid in wanted:
            raise DuplicateChannel("A channel appears twice in one extension.", field=field)
        wanted[cid] = _extension_days(days, "days" if single else ["items", str(n), "days"])

    made: list[tuple[list[Channel], list[DayEntry]]] = []

    async def action(conn: BaseDBAsyncClient) -> dict[str, Any]:
        channels, entries = await _extend_locked(conn, principal, wanted, clean_comment, single)
        made.append((channels, entries))
        return {"channels": [c.id for c in channels], "entries": [e.id for e in entries]}

    result, replayed = await idempotency.run_once(
        scope=principal.idempotency_scope,
        key=idempotency_key,
        operation=operation,
        request={"items": sorted(wanted.items()), "comment": clean_comment},
        action=action,
    )
    if replayed:
        channels = await Channel.filter(id__in=result["channels"]).order_by("id")
        entries = await DayEntry.filter(id__in=result["entries"]).order_by("id")
        return Extension(list(channels), list(entries), replayed=True)
    channels, entries = made[0]
    return Extension(channels, entries, replayed=False)


async def _extend_locked(
    conn: BaseDBAsyncClient,
    principal: Principal,
    wanted: dict[int, int],
    comment: str,
    single: bool,
) -> tuple[list[Channel], list[DayEntry]]:
    channels = await lock_channels(conn, wanted)
    found = {c.id: c for c in channels}
    for n, cid in enumerate(wanted):
        channel = found.get(cid)
        field = "channel_id" if single else ["items", str(n), "channel_id"]
        if channel is None or not access.can_see_customer_of(
            principal, channel.partner_id, channel.customer_id
        ):
            raise NotFound("No such channel.", field=field)
        if channel.status == ChannelStatus.DELETED:
            raise ChannelDeleted("A deleted channel cannot be extended.", field=field)
    partner_ids = {c.partner_id for c in channels}
    if len(partner_ids) != 1:
        raise InvalidArgument("All channels of one extension must belong to one partner.")
    partner_id = partner_ids.pop()

    movements = await day_ledger.post_many(
        conn,
        partner_id=partner_id,
        items=[DayItem(-wanted[c.id], DayEntryKind.ALLOCATION, comment, c.id) for c in channels],
    )
    now = clock.now()
    lots = []
    for channel, movement in zip(channels, movements, strict=True):
        starts = max(now, channel.active_until) if channel.active_until else now
        channel.active_until = starts + wanted[channel.id] * DAY
        channel.status = ChannelStatus.ACTIVE
        lots.append(
            ChannelLot(
                channel_id=channel.id,
                partner_id=partner_id,
                kind=LotKind.PAID,
                days=wanted[channel.id],
                starts_at=starts,
                ends_at=channel.active_until,
                day_entry_id=movement.entry.id,
                comment=comment,
                created_at=now,
            )
        )
    await ChannelLot.bulk_create(lots, using_db=conn)
    await Channel.bulk_update(channels, fields=["active_until", "status"], using_db=conn)
    await alerts.resolve_channel_alerts_many(conn, [c.id for c in channels])
    for channel in channels:
        _changed(channel)
    return channels, [m.entry for m in movements]


# ---- deleting --------------------------------------------------------------


async def delete_channel(principal: Principal, *, channel_id: int, comment: str) -> ChannelChange:
    """Refund the whole paid days not yet used (never free trial days) and free the number."""
    require_allocator(principal)
    clean_comment = validation.comment(comment, required=True)
    visible = await get_channel(principal, channel_id)
    async with transaction() as conn:
        (channel,) = await lock_channels(conn, [visible.id])
        if channel.status == ChannelStatus.DELETED:
            raise ChannelDeleted("This channel is already deleted.", field="channel_id")
        now = clock.now()
        lots = await ChannelLot.filter(channel_id=channel.id, kind=LotKind.PAID).using_db(conn)
        refund = 0
        for lot in lots:
            unused = refundable_days(lot, now)
            if unused:
                lot.refunded_days += unused
                refund += unused
                await (
                    ChannelLot.filter(id=lot.id)
                    .using_db(conn)
                    .update(refunded_days=lot.refunded_days)
                )
        movement = await day_ledger.post(
            conn,
            partner_id=channel.partner_id,
            days=refund,
            kind=DayEntryKind.REFUND,
            comment=clean_comment,
            channel_id=channel.id,
        )
        channel.status = ChannelStatus.DELETED
        channel.deleted_at = now
        await (
            Channel.filter(id=channel.id)
            .using_db(conn)
            .update(status=ChannelStatus.DELETED, deleted_at=now)
        )
        await alerts.resolve_channel_alerts_many(conn, [channel.id])
        _changed(channel)
    return ChannelChange(channel=channel, day_entry=movement.entry)


def refundable_days(lot: ChannelLot, now: datetime) -> int:
    """Whole days of a paid lot not yet used and not yet refunded."""
    if lot.kind != LotKind.PAID:
        return 0
    unused = max(timedelta(0), lot.ends_at - max(now, lot.starts_at))
    return min(int(unused // DAY), lot.days - lot.refunded_days)


# ---- settings --------------------------------------------------------------


async def set_messaging_tier(
    principal: Principal, *, channel_id: int, tier: MessagingTier
) -> Channel:
    require_allocator(principal)
    channel = await get_channel(principal, channel_id)
    if channel.status == ChannelStatus.DELETED:
        raise ChannelDeleted("A deleted channel has no messaging tier to set.", field="channel_id")
    async with transaction() as conn:
        await Channel.filter(id=channel.id).using_db(conn).update(messaging_tier=tier)
        channel.messaging_tier = tier
        _changed(channel)
    return channel


def _changed(channel: Channel) -> None:
    """Subscribers get the channel as this transaction leaves it, once it commits."""
    unit_of_work.record(changes.channel_changed(channel=row_of(channel)))
