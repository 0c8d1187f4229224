"""Alerts: stored rows that tell a partner or customer something needs attention.

An alert fires once: each carries a ``dedupe_key`` that is unique while set.
Alerts that fire "once per crossing" (LOW_DAYS, LOW_BALANCE) use an *open* key
per tenant and clear it when resolved, so the next crossing fires again;
channel alerts keep a key per channel and expiry date forever.
Pushing alerts to subscribers after commit comes with the events module.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet

from backend.db import db_datetime, dialect_sql
from backend.domain import access, alert_webhooks
from backend.domain.access import Principal
from backend.domain.clock import clock
from backend.domain.models import Alert, AlertKind, Role
from backend.domain.money import format_micros
from backend.events import publish


def visible_to(principal: Principal) -> QuerySet:
    """ADMIN: every alert; PARTNER: its own and its customers'; CUSTOMER: its own."""
    if principal.role == Role.ADMIN:
        return Alert.all()
    if principal.role == Role.PARTNER:
        return Alert.filter(partner_id=principal.partner_id)
    return Alert.filter(customer_id=principal.customer_id)


async def visible_to_in(principal: Principal, partner_id: str | None) -> QuerySet:
    """``visible_to``, narrowed to one partner when asked (another's is NOT_FOUND)."""
    query = visible_to(principal)
    if partner_id is None:
        return query
    partner = await access.get_partner(principal, partner_id)
    return query.filter(partner_id=partner.id)


def low_days_key(partner_id: int) -> str:
    return f"LOW_DAYS:{partner_id}:open"


def low_balance_key(wallet_id: int) -> str:
    return f"LOW_BALANCE:{wallet_id}:open"


def channel_key(kind: AlertKind, channel_id: int, active_until: datetime) -> str:
    return f"{kind.value}:{channel_id}:{active_until.isoformat()}"


async def raise_alert(
    conn: BaseDBAsyncClient,
    *,
    kind: AlertKind,
    message: str,
    dedupe_key: str,
    partner_id: int | None = None,
    customer_id: int | None = None,
    wallet_id: int | None = None,
    channel_id: int | None = None,
) -> int | None:
    """Store the alert unless one with the same key exists; the new id, or None."""
    rows = await conn.execute_query_dict(
        dialect_sql(
            conn,
            "INSERT INTO alerts (kind, message, partner_id, customer_id, wallet_id, channel_id,"
            " dedupe_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        ),
        [
            kind.value,
            message[:500],
            partner_id,
            customer_id,
            wallet_id,
            channel_id,
            dedupe_key,
            db_datetime(conn, clock.now()),
        ],
    )
    if not rows:
        return None
    publish.alert_changed(alert_id=rows[0]["id"], partner_id=partner_id, customer_id=customer_id)
    await alert_webhooks.enqueue(conn, alert_id=rows[0]["id"], partner_id=partner_id)
    return rows[0]["id"]


async def resolve_open(conn: BaseDBAsyncClient, dedupe_key: str) -> None:
    """Resolve a once-per-crossing alert and free its key for the next crossing."""
    rows = await conn.execute_query_dict(
        dialect_sql(
            conn,
            "UPDATE alerts SET resolved_at = $1, dedupe_key = NULL"
            " WHERE dedupe_key = $2 AND resolved_at IS NULL RETURNING id, partner_id, customer_id",
        ),
        [db_datetime(conn, clock.now()), dedupe_key],
    )
    await _resolved(conn, rows)


async def resolve_channel_alerts_many(conn: BaseDBAsyncClient, channel_ids: list[int]) -> None:
    """The channels were extended or deleted: their expiry warnings no longer stand."""
    if not channel_ids:
        return
    placeholders = ", ".join(f"${n}" for n in range(2, len(channel_ids) + 2))
    rows = await conn.execute_query_dict(
        dialect_sql(
            conn,
            f"UPDATE alerts SET resolved_at = $1 WHERE channel_id IN ({placeholders})"
            " AND kind IN ('CHANNEL_EXPIRING', 'CHANNEL_EXPIRED') AND resolved_at IS NULL"
            " RETURNING id, partner_id, customer_id",
        ),
        [db_datetime(conn, clock.now()), *channel_ids],
    )
    await _resolved(conn, rows)


async def _resolved(conn: BaseDBAsyncClient, rows: list[dict]) -> None:
    """A resolution is pushed again, so a dashboard (or a webhook) can clear the alert."""
    for row in rows:
        publish.alert_changed(
            alert_id=row["id"], partner_id=row["partner_id"], customer_id=row["customer_id"]
        )
        await alert_webhooks.enqueue(conn, alert_id=row["id"], partner_id=row["partner_id"])


async def on_day_balance_moved(
    conn: BaseDBAsyncClient, *, partner_id: int, before: int, after: int, threshold: int | None
) -> None:
    """LOW_DAYS fires when the balance crosses below the threshold, resolves when it recovers."""
    if threshold is None:
        return
    if before >= threshold > after:
        await raise_alert(
            conn,
            kind=AlertKind.LOW_DAYS,
            message=f"The day balance is {after} days, below the threshold of {threshold}.",
            dedupe_key=low_days_key(partner_id),
            partner_id=partner_id,
        )
    elif before < threshold <= after:
        await resolve_open(conn, low_days_key(partner_id))


async def on_wallet_balance_moved(
    conn: BaseDBAsyncClient,
    *,
    wallet_id: int,
    customer_id: int,
    before: int,
    after: int,
    threshold: int | None,
) -> None:
    """LOW_BALANCE fires when the balance crosses below the threshold, resolves when it recovers."""
    if threshold is None:
        return
    if before >= threshold > after:
        rows = await conn.execute_query_dict(
            dialect_sql(conn, "SELECT partner_id FROM customers WHERE id = $1"), [customer_id]
        )
        await raise_alert(
            conn,
            kind=AlertKind.LOW_BALANCE,
            message=(
                f"The wallet balance is {format_micros(after)}, below the threshold of "
                f"{format_micros(threshold)}."
            ),
            dedupe_key=low_balance_key(wallet_id),
            partner_id=rows[0]["partner_id"],
            customer_id=customer_id,
            wallet_id=wallet_id,
        )
    elif before < threshold <= after:
        await resolve_open(conn, low_balance_key(wallet_id))
