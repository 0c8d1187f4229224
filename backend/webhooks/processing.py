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

A whole request is applied in one transaction, which also records the
event's outcome. Items that cannot be applied (an unknown ``phone_number_id``
or category, a status without pricing, a recipient with no usable calling
code) are listed in the event's error and the event is dead-lettered;
replaying it later is safe because every charge is keyed.

The hot path, per request of N statuses on PostgreSQL: the event is stored
(committed, rule 5) by the same statement that reads the payers of its
channels (wallet, currency, markup, pending holds, rate-card stamp); then one
transaction claims the keys (one INSERT), posts one movement per wallet
(``ledger.post_many``) and, in its last statement, links the entries and
finishes the event. Rate cards come from the per-process cache; each
recipient is parsed once (``pricing.recipient``); nothing is read back.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from backend.db import connection, db_datetime, dialect_sql, is_postgres, row_of
from backend.domain import charging, holds, payers, pricing, rates, unit_of_work
from backend.domain.channels import normalise_phone_number
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
# Distinct phone_number_ids looked up per query: never an unbounded IN list.
MAX_LOOKUP_IDS = 100


# What ``parse_body`` answers for a body that is not JSON at all.
@dataclass(frozen=True)
class Unreadable:
    """A body that is not a webhook we can read, and why (it becomes a dead letter)."""

    reason: str


MALFORMED = Unreadable("malformed JSON")

Payers = dict[str, payers.Payer]  # by phone_number_id


class Unprocessable(Exception):
    """An item of an event that cannot be applied as it stands (dead-letter material)."""


@dataclass
class Outcome:
    charged: int = 0
    duplicates: int = 0
    released: int = 0
    tier_changes: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Processed:
    """How processing left a stored event (what the webhook answers)."""

    event_id: int
    status: WebhookEventStatus
    attempts: int
    error: str | None


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


def _changes(payload: Any):
    """(field, value) of every change of a webhook body (garbage skipped)."""
    for entry in payload.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        for change in entry.get("changes") or []:
            if isinstance(change, dict):
                value = change.get("value")
                yield change.get("field"), value if isinstance(value, dict) else {}


def _metadata_id(value: dict[str, Any]) -> str | None:
    metadata = value.get("metadata")
    pnid = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
    return str(pnid) if pnid else None


def phone_number_ids(payload: Any) -> list[str]:
    """The channels whose statuses a body carries (what the payer lookup needs)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        return []
    found: dict[str, None] = {}
    for _, value in _changes(payload):
        pnid = _metadata_id(value)
        if pnid and value.get("statuses"):
            found[pnid] = None
    return list(found)


def _payer_where(conn: BaseDBAsyncClient, count: int, first: int) -> str:
    ids = ", ".join(f"${first + n}" for n in range(count))
    return f"c.partner_id = $1 AND c.status <> 'DELETED' AND c.phone_number_id IN ({ids})"


def _payers(rows: list[dict[str, Any]]) -> Payers:
    return {
        row["phone_number_id"]: payers.payer_of(row)
        for row in rows
        if row.get("channel_id") is not None
    }


async def lookup_payers(partner_id: int, ids: list[str]) -> Payers:
    """The payers of the partner's live channels with these phone_number_ids (one query)."""
    conn = connection()
    found: Payers = {}
    for start in range(0, len(ids), MAX_LOOKUP_IDS):
        chunk = ids[start : start + MAX_LOOKUP_IDS]
        rows = await conn.execute_query_dict(
            dialect_sql(conn, payers.payer_sql(_payer_where(conn, len(chunk), 2))),
            [partner_id, *chunk],
        )
        found.update(_payers(rows))
    return found


_INSERT_EVENT = (
    "INSERT INTO webhook_events (partner_id, body, status, attempts, received_at, next_attempt_at)"
    " VALUES ($1, $2, 'PENDING', 0, $3, $4) RETURNING id"
)


async def store(partner_id: int, body: str, payload: Any) -> tuple[int, Payers]:
    """Store a verified body (committed before anything else happens) and read its payers.

    On PostgreSQL both are one statement: the INSERT in a CTE, the payer
    lookup beside it. The event is committed on its own so that a failure while
    processing leaves it PENDING for the jobs loop (rule 5).
    """
    conn = connection()
    now = clock.now()
    # If this worker dies before processing finishes, the jobs loop picks it up.
    values = [partner_id, body, db_datetime(conn, now), db_datetime(conn, now + ABANDONED_AFTER)]
    ids = phone_number_ids(payload)
    if is_postgres(conn) and 0 < len(ids) <= MAX_LOOKUP_IDS:
        lookup = payers.payer_sql(_payer_where(conn, len(ids), 5))
        rows = await conn.execute_query_dict(
            f"WITH event AS ({_INSERT_EVENT}) SELECT event.id AS event_id, found.*"
            f" FROM event LEFT JOIN ({lookup}) found ON true",
            [*values, *ids],
        )
        return rows[0]["event_id"], _payers(rows)
    rows = await conn.execute_query_dict(dialect_sql(conn, _INSERT_EVENT), values)
    return rows[0]["id"], await lookup_payers(partner_id, ids)


def _read_status(
    payer: payers.Payer, status: dict[str, Any]
) -> tuple[str, pricing.Recipient, charging.ChargeRequest | None]:
    """What one status asks for: (kind, recipient, a charge request or None)."""
    kind = status.get("status")
    recipient_id = status.get("recipient_id")
    message_id = status.get("id")
    if not kind or not recipient_id or not message_id:
        raise Unprocessable("status without id, status or recipient_id")
    try:
        recipient = pricing.recipient(str(recipient_id))
    except pricing.UnusableRecipient as error:
        raise Unprocessable(
            f"recipient {recipient_id!r} is not a phone number with a usable calling code ({error})"
        ) from error
    if kind not in CHARGING_STATUSES:
        return kind, recipient, None
    pricing_info = status.get("pricing")
    if not isinstance(pricing_info, dict):
        raise Unprocessable(f"{kind} status {message_id} without pricing")
    category = rates.parse_category(str(pricing_info.get("category", "")))
    if category is None:
        raise Unprocessable(f"unknown category {pricing_info.get('category')!r} in {message_id}")
    model = str(pricing_info.get("pricing_model", "PMP")).upper()
    pricing_model = PricingModel.CBP if model == "CBP" else PricingModel.PMP
    conversation = status.get("conversation")
    if not isinstance(conversation, dict):
        conversation = {}
    key = message_id
    if pricing_model == PricingModel.CBP and conversation.get("id"):
        key = str(conversation["id"])
    price_type = pricing_info.get("type")
    billable = price_type == "regular" if price_type else bool(pricing_info.get("billable", True))
    if price_type in FREE_TYPES:
        billable = False
    origin = conversation.get("origin") if isinstance(conversation.get("origin"), dict) else {}
    opened_by_user = str(origin.get("type", "")).lower() in USER_ORIGINS
    return (
        kind,
        recipient,
        charging.ChargeRequest(
            payer=payer,
            external_id=str(key),
            category=category,
            recipient=recipient,
            pricing_model=pricing_model,
            billable=billable,
            opened_at=_timestamp(status.get("timestamp")),
            opened_by_user=opened_by_user,
        ),
    )


async def _channel_by_id(conn: BaseDBAsyncClient, partner_id: int, phone_number_id: Any) -> Channel:
    if not phone_number_id:
        raise Unprocessable("change without metadata.phone_number_id")
    channel = (
        await Channel.filter(partner_id=partner_id, phone_number_id=str(phone_number_id))
        .exclude(status=ChannelStatus.DELETED)
        .using_db(conn)
        .first()
    )
    if channel is None:
        raise Unprocessable(f"unknown phone_number_id {phone_number_id}")
    return channel


async def _apply_tier(
    conn: BaseDBAsyncClient, partner_id: int, value: dict[str, Any], field_name: str
) -> None:
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
        channel = await _channel_by_id(
            conn, partner_id, _metadata_id(value) or value.get("phone_number_id")
        )
        limit = value.get("max_daily_conversation_per_phone")
    tier = tier_for_limit(limit)
    await Channel.filter(id=channel.id).using_db(conn).update(messaging_tier=tier)
    channel.messaging_tier = tier
    unit_of_work.record(changes.channel_changed(channel=row_of(channel)))


async def apply(
    conn: BaseDBAsyncClient, partner_id: int, payload: Any, payers: Payers
) -> tuple[Outcome, list[tuple[int, int]]]:
    """Apply one webhook body inside ``conn``'s transaction; what could not be applied is listed.

    Returns the outcome and the (conversation, entry) links still to write,
    which the caller folds into its last statement.
    """
    outcome = Outcome()
    links: list[tuple[int, int]] = []
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        outcome.problems.append("not a WhatsApp webhook body (no entry list)")
        return outcome, links
    batch: list[charging.Priced] = []
    for field_name, value in _changes(payload):
        try:
            if field_name in ("business_capability_update", "phone_number_quality_update"):
                await _apply_tier(conn, partner_id, value, field_name)
                outcome.tier_changes += 1
                continue
            statuses = value.get("statuses") or []
            if not statuses:
                continue  # inbound messages, contacts: nothing to charge
            pnid = _metadata_id(value)
            if not pnid:
                raise Unprocessable("change without metadata.phone_number_id")
            payer = payers.get(pnid)
            if payer is None:
                raise Unprocessable(f"unknown phone_number_id {pnid}")
        except (Unprocessable, DomainError) as problem:
            outcome.problems.append(str(problem))
            continue
        for status in statuses:
            try:
                kind, recipient, request = _read_status(
                    payer, status if isinstance(status, dict) else {}
                )
                if kind == "failed":
                    # A failed message costs nothing and gives back its share of a hold.
                    if payer.has_holds and await holds.settle_share(
                        conn,
                        channel_id=payer.channel_id,
                        recipient=recipient.e164,
                        captured=False,
                        settled_by=f"failed:{status.get('id')}",
                    ):
                        outcome.released += 1
                elif request is not None:
                    batch.append(await charging.price(conn, request))
            except (Unprocessable, DomainError) as problem:
                # An unpriceable status (NoRateCard) is a problem, not a failure.
                outcome.problems.append(str(problem))
    if batch:
        results, links = await charging.charge_many(conn, batch, link=False)
        for result in results:
            if result.duplicate:
                outcome.duplicates += 1
            else:
                outcome.charged += 1
    return outcome, links


_FINISH = (
    "UPDATE webhook_events SET status = $1, attempts = $2, last_error = $3, processed_at = $4,"
    " next_attempt_at = NULL WHERE id = $5"
)


async def _finish(
    conn: BaseDBAsyncClient,
    event_id: int,
    status: WebhookEventStatus,
    attempts: int,
    error: str | None,
    links: list[tuple[int, int]] = (),
) -> None:
    """Record the event's outcome; on PostgreSQL the entry links ride in the same statement."""
    values: list[Any] = [
        status.value,
        attempts,
        error[:2000] if error else None,
        db_datetime(conn, clock.now()),
        event_id,
    ]
    if links and is_postgres(conn):
        link_sql, link_values = charging.link_statement(conn, list(links), first=6)
        await conn.execute_query(
            f"WITH linked AS ({link_sql} RETURNING id) {_FINISH}", [*values, *link_values]
        )
        return
    await charging.link_entries(conn, list(links))
    await conn.execute_query(dialect_sql(conn, _FINISH), values)


async def process_stored(
    event_id: int, partner_id: int, payload: Any, payers: Payers, attempts_before: int
) -> Processed:
    """Process a stored event in one transaction; unexpected failures are retried later."""
    attempts = attempts_before + 1
    if isinstance(payload, Unreadable):
        await _finish(connection(), event_id, WebhookEventStatus.DEAD, attempts, payload.reason)
        return Processed(event_id, WebhookEventStatus.DEAD, attempts, payload.reason)
    try:
        async with transaction() as conn:
            outcome, links = await apply(conn, partner_id, payload, payers)
            error = "; ".join(outcome.problems)[:2000] or None
            status = WebhookEventStatus.DEAD if error else WebhookEventStatus.PROCESSED
            await _finish(conn, event_id, status, attempts, error, links)
        return Processed(event_id, status, attempts, error)
    except Exception as failure:  # a database hiccup, a bug: keep the event, try again later
        log.exception("webhook event %s failed", event_id)
        error = f"{type(failure).__name__}: {failure}"[:2000]
        conn = connection()
        if attempts >= MAX_ATTEMPTS:
            await _finish(conn, event_id, WebhookEventStatus.DEAD, attempts, error)
            return Processed(event_id, WebhookEventStatus.DEAD, attempts, error)
        retry_at = clock.now() + timedelta(seconds=30 * 2 ** (attempts - 1))
        await conn.execute_query(
            dialect_sql(
                conn,
                "UPDATE webhook_events SET attempts = $1, last_error = $2, next_attempt_at = $3"
                " WHERE id = $4",
            ),
            [attempts, error, db_datetime(conn, retry_at), event_id],
        )
        return Processed(event_id, WebhookEventStatus.PENDING, attempts, error)


# Meta's bodies nest about eight levels; anything far deeper is not a webhook.
MAX_DEPTH = 64
TOO_DEEP = Unreadable(f"JSON nested deeper than {MAX_DEPTH} levels")
# Text no database column may hold: a NUL (PostgreSQL refuses it) or a lone surrogate
# (no encoding has it). Refused whole, as a dead letter, before anything is written.
UNSTORABLE_TEXT = Unreadable("a string holds a NUL character or a lone surrogate")


def parse_body(body: str | bytes) -> Any:
    """The JSON of a body, or ``MALFORMED`` when it is not JSON we take (a dead letter).

    Deep nesting is refused twice: the parser itself gives up past Python's
    recursion limit (``RecursionError``, caught here rather than left to fail
    the request and every later retry), and what parses is measured without
    recursion against ``MAX_DEPTH``.
    """
    try:
        payload = json.loads(body)
    except ValueError:
        return MALFORMED
    except RecursionError:
        return TOO_DEEP
    return _check(payload, MAX_DEPTH) or payload


def _check(payload: Any, limit: int) -> Unreadable | None:
    """Why the parsed body cannot be taken (too deep, unstorable text), without recursion; or None."""
    pending = [(payload, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if not _storable(value):
                return UNSTORABLE_TEXT
        elif isinstance(value, dict | list):
            if depth > limit:
                return TOO_DEEP
            if isinstance(value, dict):
                if not all(_storable(key) for key in value):
                    return UNSTORABLE_TEXT
                children = value.values()
            else:
                children = value
            pending.extend((child, depth + 1) for child in children)
    return None


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


async def process(event_id: int) -> WebhookEvent:
    """Process a stored event again (jobs loop, admin replay); answers it as it now stands."""
    event = await WebhookEvent.get(id=event_id)
    payload = parse_body(event.body)
    payers = await lookup_payers(event.partner_id, phone_number_ids(payload))
    await process_stored(event.id, event.partner_id, payload, payers, event.attempts)
    return await WebhookEvent.get(id=event_id)


async def retry_due() -> int:
    """Jobs loop: process again the events whose retry time has come."""
    due = await WebhookEvent.filter(
        status=WebhookEventStatus.PENDING, next_attempt_at__lte=clock.now()
    ).values_list("id", flat=True)
    for event_id in due:
        try:
            await process(event_id)
        except Exception:
            # One event that cannot even be looked at must not stop the others'
            # retries; process_stored already keeps it, with its error, for later.
            log.exception("webhook event %s could not be retried", event_id)
    return len(due)
