"""Alert webhooks: every alert POSTed as signed JSON to the partner's URLs, retried for 24 hours.

A delivery row is written in the alert's own transaction, so a committed
alert is never forgotten; the POST happens after commit and, when it fails,
again from the jobs loop with exponential backoff (30 s, 1 min, 2 min, ...)
until it succeeds or 24 hours have passed. The receiver checks
``X-Daybook-Signature: sha256=<HMAC-SHA256 of the body with the webhook's secret>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from datetime import timedelta
from urllib.parse import urlparse

import httpx
from tortoise.backends.base.client import BaseDBAsyncClient

from backend.db import db_datetime, dialect_sql
from backend.domain import access, unit_of_work
from backend.domain.access import Principal
from backend.domain.clock import clock
from backend.domain.errors import InvalidArgument, NotFound
from backend.domain.models import Alert, AlertDelivery, AlertWebhook, DeliveryStatus, Role
from backend.domain.unit_of_work import transaction

log = logging.getLogger("daybook.alert_webhooks")

GIVE_UP_AFTER = timedelta(hours=24)
FIRST_RETRY = timedelta(seconds=30)
TIMEOUT_SECONDS = 10


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def register(principal: Principal, *, partner_id: int, url: str) -> AlertWebhook:
    access.require_role(principal, Role.ADMIN, Role.PARTNER)
    partner = await access.get_partner(principal, partner_id)
    clean = (url or "").strip()
    parsed = urlparse(clean)
    printable = clean.isascii() and clean.isprintable() and " " not in clean
    if (
        not printable
        or parsed.scheme not in ("http", "https")
        or not parsed.netloc
        or len(clean) > 2000
    ):
        raise InvalidArgument("The URL must be an http:// or https:// address.", field="url")
    return await AlertWebhook.create(
        partner_id=partner.id, url=clean, secret=secrets.token_urlsafe(32), created_at=clock.now()
    )


async def remove(principal: Principal, *, webhook_id: int) -> AlertWebhook:
    access.require_role(principal, Role.ADMIN, Role.PARTNER)
    hook = await AlertWebhook.get_or_none(id=webhook_id)
    if (
        hook is None
        or hook.removed_at is not None
        or not access.can_see_partner(principal, hook.partner_id)
    ):
        raise NotFound("No such alert webhook.", field="webhook_id")
    await AlertWebhook.filter(id=hook.id).update(removed_at=clock.now())
    return await AlertWebhook.get(id=hook.id)


async def enqueue(conn: BaseDBAsyncClient, *, alert_id: int, partner_id: int | None) -> None:
    """Inside the alert's transaction: one delivery per live webhook, sent after commit."""
    if partner_id is None:
        return
    now = clock.now()
    rows = await conn.execute_query_dict(
        dialect_sql(
            conn,
            "INSERT INTO alert_deliveries (webhook_id, alert_id, status, attempts, next_attempt_at,"
            " created_at) SELECT id, $1, 'PENDING', 0, $2, $2 FROM alert_webhooks"
            " WHERE partner_id = $3 AND removed_at IS NULL RETURNING id",
        ),
        [alert_id, db_datetime(conn, now), partner_id],
    )
    for row in rows:
        delivery_id = row["id"]
        unit_of_work.after_commit(lambda delivery_id=delivery_id: deliver(delivery_id))


def _body(alert: Alert) -> bytes:
    def as_id(value: int | None) -> str | None:
        return None if value is None else str(value)

    return json.dumps(
        {
            "id": str(alert.id),
            "kind": alert.kind,
            "message": alert.message,
            "partnerId": as_id(alert.partner_id),
            "customerId": as_id(alert.customer_id),
            "walletId": as_id(alert.wallet_id),
            "channelId": as_id(alert.channel_id),
            "createdAt": alert.created_at.isoformat(),
            "resolvedAt": alert.resolved_at.isoformat() if alert.resolved_at else None,
        }
    ).encode()


CLAIM = timedelta(minutes=5)


async def deliver(delivery_id: int) -> DeliveryStatus | None:
    """One attempt; the outcome is recorded on the delivery. None: someone else has it.

    The attempt first claims the row (pushing its retry time past the attempt),
    so the after-commit task and a jobs pass never POST the same alert twice.
    """
    now = clock.now()
    claimed = await AlertDelivery.filter(
        id=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + CLAIM)
    if not claimed:
        return None
    delivery = await AlertDelivery.get(id=delivery_id).select_related("webhook", "alert")
    body = _body(delivery.alert)
    status_code, error = None, None
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            response = await client.post(
                delivery.webhook.url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Daybook-Signature": signature(body, delivery.webhook.secret),
                    "X-Daybook-Delivery": str(delivery.id),
                },
            )
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except Exception as failure:  # any failure to POST is a failed attempt, never a crash
        error = f"{type(failure).__name__}: {failure}"[:500]
    now = clock.now()
    attempts = delivery.attempts + 1
    async with transaction() as conn:
        if error is None:
            await (
                AlertDelivery.filter(id=delivery.id)
                .using_db(conn)
                .update(
                    status=DeliveryStatus.DELIVERED,
                    attempts=attempts,
                    last_status_code=status_code,
                    last_error=None,
                    delivered_at=now,
                    next_attempt_at=None,
                )
            )
            return DeliveryStatus.DELIVERED
        retry_at = now + FIRST_RETRY * 2 ** (attempts - 1)
        gave_up = retry_at - delivery.created_at > GIVE_UP_AFTER
        await (
            AlertDelivery.filter(id=delivery.id)
            .using_db(conn)
            .update(
                status=DeliveryStatus.FAILED if gave_up else DeliveryStatus.PENDING,
                attempts=attempts,
                last_status_code=status_code,
                last_error=error,
                next_attempt_at=None if gave_up else retry_at,
            )
        )
    return DeliveryStatus.FAILED if gave_up else DeliveryStatus.PENDING


async def retry_due() -> int:
    """Jobs loop: attempt every delivery whose retry time has come."""
    due = await AlertDelivery.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=clock.now()
    ).values_list("id", flat=True)
    for delivery_id in due:
        try:
            await deliver(delivery_id)
        except Exception:  # one bad row must not stop the others
            log.exception("alert delivery %s failed", delivery_id)
    return len(due)
