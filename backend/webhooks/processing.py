"""Turn a stored WhatsApp Cloud API webhook into charges, hold settlements and tier changes.

What Meta says decides *whether* and *what* to charge; the rate card decides
the price. Per status:

- ``delivered``, or ``read`` when no ``delivered`` came: charge once per key.
  The key is ``conversation.id`` under CBP, the message id under PMP (and
  whenever the ``conversation`` object is absent, as from webhook v24).
- ``pricing.type == "regular"`` (or legacy ``billable: true``) is billable;
  ``free_customer_service`` / ``free_entry_point`` are recorded at zero.
- ``failed`` costs nothing and releases that recipient's hold share.
- ``sent`` changes nothing: a sent message can still fail.

A whole request is applied in one transaction. Items that cannot be applied
(an unknown ``phone_number_id`` or category, a status without pricing) are
listed in the event's error and the event is dead-lettered; replaying it later
is safe because every charge is keyed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from backend.db import row_of
from backend.domain import charging, holds, rates, unit_of_work
from backend.domain.channels import InvalidPhoneNumber, normalise_phone_number
from backend.domain.clock import clock
from backend.domain.errors import DomainError
from backend.domain.models import (
    Channel,
    ChannelStatus,
    MessagingTier,
    PricingModel,
    WebhookEvent,
    WebhookEventStatus,
)
from backend.domain.unit_of_work import transaction
from backend.events import changes

MAX_ATTEMPTS = 5
# A PENDING event not finished by then was abandoned (a worker died): retry it.
ABANDONED_AFTER = timedelta(minutes=5)
log = logging.getLogger("daybook.webhooks")
FREE_TYPES = {"free_customer_service", "free_entry_point"}
USER_ORIGINS = {"service", "user_initiated", "customer_initiated"}
CHARGING_STATUSES = {"delivered", "read"}


class Unprocessable(Exception):
    """An item of an event that cannot be applied as it stands (dead-letter material)."""


@dataclass
class Outcome:
    charged: int = 0
    duplicates: int = 0
    released: int = 0
    tier_changes: int = 0
    problems: list[str] = field(default_factory=list)


def tier_for_limit(limit: Any) -> MessagingTier:
    """Meta's ``current_limit`` ("TIER_2K") or a number of conversations per day."""
    if isinstance(limit, str):
        name = limit.strip().upper()
        if name in ("TIER_1K", "TIER_2K"):
            return MessagingTier.TIER_2K
        if name in MessagingTier.__members__:
            return MessagingTier(name)
        if name.startswith("UNLIMITED") or name == "TIER_UNLIMITED":
            return MessagingTier.TIER_UNLIMITED
        if name.isdigit():
            limit = int(name)
        else:
            raise Unprocessable(f"unknown messaging limit {limit!r}")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0:
        raise Unprocessable(f"unknown messaging limit {limit!r}")
    for tier, cap in holds.TIER_LIMITS.items():
        if cap is not None and limit <= cap:
            return tier
    return MessagingTier.TIER_UNLIMITED


def _timestamp(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return clock.now()


async def _channel(partner_id: int, phone_number_id: Any) -> Channel:
    if not phone_number_id:
        raise Unprocessable("change without metadata.phone_number_id")
    channel = (
        await Channel.filter(partner_id=partner_id, phone_number_id=str(phone_number_id))
        .exclude(status=ChannelStatus.DELETED)
        .first()
    )
    if channel is None:
        raise Unprocessable(f"unknown phone_number_id {phone_number_id}")
    return channel


async def _read_status(
    conn, channel: Channel, status: dict[str, Any], outcome: Outcome
) -> charging.ChargeRequest | None:
    """What one status asks for: a charge request, a hold release (done here), or nothing."""
    kind = status.get("status")
    recipient_id = status.get("recipient_id")
    message_id = status.get("id")
    if not kind or not recipient_id or not message_id:
        raise Unprocessable("status without id, status or recipient_id")
    try:
        recipient = normalise_phone_number("+" + str(recipient_id).lstrip("+"))
    except InvalidPhoneNumber as error:
        raise Unprocessable(f"recipient {recipient_id!r} is not a phone number") from error
    if kind == "failed":
        if await holds.settle_share(
            conn,
            channel_id=channel.id,
            recipient=recipient,
            captured=False,
            settled_by=f"failed:{message_id}",
        ):
            outcome.released += 1
        return None
    if kind not in CHARGING_STATUSES:
        return None
    pricing = status.get("pricing")
    if not isinstance(pricing, dict):
        raise Unprocessable(f"{kind} status {message_id} without pricing")
    category = rates.parse_category(str(pricing.get("category", "")))
    if category is None:
        raise Unprocessable(f"unknown category {pricing.get('category')!r} in {message_id}")
    model = str(pricing.get("pricing_model", "PMP")).upper()
    pricing_model = PricingModel.CBP if model == "CBP" else PricingModel.PMP
    conversation = (
        status.get("conversation") if isinstance(status.get("conversation"), dict) else {}
    )
    key = message_id
    if pricing_model == PricingModel.CBP and conversation.get("id"):
        key = str(conversation["id"])
    price_type = pricing.get("type")
    billable = price_type == "regular" if price_type else bool(pricing.get("billable", True))
    if price_type in FREE_TYPES:
        billable = False
    origin = conversation.get("origin") if isinstance(conversation.get("origin"), dict) else {}
    opened_by_user = str(origin.get("type", "")).lower() in USER_ORIGINS
    return charging.ChargeRequest(
        channel=channel,
        external_id=str(key),
        category=category,
        recipient=recipient,
        pricing_model=pricing_model,
        billable=billable,
        opened_at=_timestamp(status.get("timestamp")),
        opened_by_user=opened_by_user,
    )


async def _apply_tier(partner_id: int, value: dict[str, Any], field_name: str, conn) -> None:
    if field_name == "phone_number_quality_update":
        number = normalise_phone_number(
            "+" + str(value.get("display_phone_number", "")).lstrip("+")
        )
        channel = (
            await Channel.filter(partner_id=partner_id, phone_number=number)
            .exclude(status=ChannelStatus.DELETED)
            .using_db(conn)
            .first()
        )
        if channel is None:
            raise Unprocessable(f"unknown display_phone_number {number}")
        limit = value.get("current_limit")
    else:
        channel = await _channel(
            partner_id,
            (value.get("metadata") or {}).get("phone_number_id") or value.get("phone_number_id"),
        )
        limit = value.get("max_daily_conversation_per_phone")
    tier = tier_for_limit(limit)
    await Channel.filter(id=channel.id).using_db(conn).update(messaging_tier=tier)
    channel.messaging_tier = tier
    unit_of_work.record(changes.channel_changed(channel=row_of(channel)))


async def apply(partner_id: int, payload: Any) -> Outcome:
    """Apply one webhook body in one transaction; what could not be applied is listed."""
    outcome = Outcome()
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        outcome.problems.append("not a WhatsApp webhook body (no entry list)")
        return outcome
    cache = charging.ChargeCache()
    async with transaction() as conn:
        for entry in payload["entry"]:
            for change in (entry or {}).get("changes") or []:
                field_name = (change or {}).get("field")
                value = (change or {}).get("value") or {}
                try:
                    if field_name in ("business_capability_update", "phone_number_quality_update"):
                        await _apply_tier(partner_id, value, field_name, conn)
                        outcome.tier_changes += 1
                        continue
                    statuses = value.get("statuses") or []
                    if not statuses:
                        continue  # inbound messages, contacts: nothing to charge
                    channel = await _channel(
                        partner_id, (value.get("metadata") or {}).get("phone_number_id")
                    )
                except (Unprocessable, DomainError) as problem:
                    outcome.problems.append(str(problem))
                    continue
                requests = []
                for status in statuses:
                    try:
                        request = await _read_status(conn, channel, status or {}, outcome)
                    except (Unprocessable, DomainError) as problem:
                        outcome.problems.append(str(problem))
                        continue
                    if request is not None:
                        await _price_or_flag(request, cache, conn, outcome, requests)
                if requests:
                    for result in await charging.charge_many(conn, requests, cache):
                        if result.duplicate:
                            outcome.duplicates += 1
                        else:
                            outcome.charged += 1
    return outcome


async def _price_or_flag(
    request: charging.ChargeRequest,
    cache: charging.ChargeCache,
    conn,
    outcome: Outcome,
    requests: list[charging.ChargeRequest],
) -> None:
    """Keep the request if it can be priced; an unpriceable one is a problem, not a failure."""
    try:
        await charging.check_priceable(conn, request, cache)
    except rates.NoRateCard as error:
        outcome.problems.append(error.message)
        return
    requests.append(request)


async def process(event_id: int) -> WebhookEvent:
    """Process a stored event; unexpected failures are retried later, then dead-lettered."""
    event = await WebhookEvent.get(id=event_id)
    now = clock.now()
    attempts = event.attempts + 1
    try:
        payload = json.loads(event.body)
    except ValueError:
        await _finish(event, WebhookEventStatus.DEAD, attempts, "malformed JSON")
        return await WebhookEvent.get(id=event_id)
    try:
        outcome = await apply(event.partner_id, payload)
    except Exception as error:  # a database hiccup, a bug: keep the event, try again later
        log.exception("webhook event %s failed", event.id)
        if attempts >= MAX_ATTEMPTS:
            await _finish(
                event, WebhookEventStatus.DEAD, attempts, f"{type(error).__name__}: {error}"
            )
        else:
            await WebhookEvent.filter(id=event.id).update(
                attempts=attempts,
                last_error=f"{type(error).__name__}: {error}"[:2000],
                next_attempt_at=now + timedelta(seconds=30 * 2 ** (attempts - 1)),
            )
        return await WebhookEvent.get(id=event_id)
    if outcome.problems:
        await _finish(event, WebhookEventStatus.DEAD, attempts, "; ".join(outcome.problems))
    else:
        await _finish(event, WebhookEventStatus.PROCESSED, attempts, None)
    return await WebhookEvent.get(id=event_id)


async def _finish(
    event: WebhookEvent, status: WebhookEventStatus, attempts: int, error: str | None
) -> None:
    await WebhookEvent.filter(id=event.id).update(
        status=status,
        attempts=attempts,
        last_error=error[:2000] if error else None,
        processed_at=clock.now(),
        next_attempt_at=None,
    )


async def retry_due() -> int:
    """Jobs loop: process again the events whose retry time has come."""
    due = await WebhookEvent.filter(
        status=WebhookEventStatus.PENDING, next_attempt_at__lte=clock.now()
    ).values_list("id", flat=True)
    for event_id in due:
        await process(event_id)
    return len(due)
