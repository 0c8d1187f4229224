"""Alerts: stored rows that tell a partner or customer something needs attention.

An alert fires once: each carries a ``dedupe_key`` that is unique while set.
Alerts that fire "once per crossing" (LOW_DAYS, LOW_BALANCE) use an *open* key
per tenant and clear it when resolved, so the next crossing fires again;
channel alerts keep a key per channel and expiry date forever.

The threshold alerts are kept true to the balance by ``reconcile``: called
by the reactions to a committed movement that crossed a threshold, with the
balance row locked, they raise or resolve to match the balance as it is
*now*. So two crossings reacted to out of order still end right, and the jobs
loop's ``sweep`` puts right a reaction that never ran (a worker that died
between the commit and its reaction). Every alert and resolution is pushed
to subscribers (its whole row) and to the partner's alert webhooks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet

from backend.db import connection, db_datetime, dialect_sql
from backend.domain import access, alert_webhooks, locking, unit_of_work
from backend.domain.access import Principal
from backend.domain.clock import clock
from backend.domain.models import Alert, AlertKind, Role
from backend.domain.money import format_micros
from backend.events import changes


def visible_to(principal: Principal) -> QuerySet:
    """ADMIN: every alert; PARTNER: its own and its customers'; CUSTOMER: its own."""
    if principal.role == Role.ADMIN:
        return Alert.all()
    if principal.role == Role.PARTNER:
        return Alert.filter(partner_id=principal.partner_id)
    return Alert.filter(customer_id=principal.customer_id)


async def visible_to_in(principal: Principal, partner_id: int | None) -> QuerySet:
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
            " ON CONFLICT (dedupe_key) DO NOTHING RETURNING *",
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
    await _pushed(conn, rows)
    return rows[0]["id"]


async def resolve_open(conn: BaseDBAsyncClient, dedupe_key: str) -> None:
    """Resolve a once-per-crossing alert and free its key for the next crossing."""
    rows = await conn.execute_query_dict(
        dialect_sql(
            conn,
            "UPDATE alerts SET resolved_at = $1, dedupe_key = NULL"
            " WHERE dedupe_key = $2 AND resolved_at IS NULL RETURNING *",
        ),
        [db_datetime(conn, clock.now()), dedupe_key],
    )
    await _pushed(conn, rows)


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
            " RETURNING *",
        ),
        [db_datetime(conn, clock.now()), *channel_ids],
    )
    await _pushed(conn, rows)


async def _pushed(conn: BaseDBAsyncClient, rows: list[dict]) -> None:
    """An alert, or its resolution, goes to subscribers and to the partner's webhooks."""
    for row in rows:
        unit_of_work.record(changes.alert_changed(alert=row))
        await alert_webhooks.enqueue(conn, alert_id=row["id"], partner_id=row["partner_id"])


async def _has_open(conn: BaseDBAsyncClient, dedupe_key: str) -> bool:
    rows = await conn.execute_query_dict(
        dialect_sql(conn, "SELECT id FROM alerts WHERE dedupe_key = $1"), [dedupe_key]
    )
    return bool(rows)


@dataclass(frozen=True)
class _Threshold:
    """A once-per-crossing alert on a balance row: which columns, which key, what it says."""

    kind: AlertKind
    balance_column: str
    threshold_column: str
    dedupe_key: Callable[[int], str]
    lock: Callable[[BaseDBAsyncClient, int], Awaitable[dict | None]]
    message: Callable[[int, int], str]
    # The alert's partner_id, customer_id and wallet_id, from the row.
    owners: Callable[[dict], dict[str, int | None]]


LOW_BALANCE = _Threshold(
    kind=AlertKind.LOW_BALANCE,
    balance_column="balance_micros",
    threshold_column="low_balance_threshold_micros",
    dedupe_key=low_balance_key,
    lock=locking.lock_wallet,
    message=lambda balance, threshold: (
        f"The wallet balance is {format_micros(balance)}, below the threshold of "
        f"{format_micros(threshold)}."
    ),
    owners=lambda row: {
        "partner_id": row["partner_id"],
        "customer_id": row["customer_id"],
        "wallet_id": row["id"],
    },
)
LOW_DAYS = _Threshold(
    kind=AlertKind.LOW_DAYS,
    balance_column="day_balance",
    threshold_column="low_days_threshold",
    dedupe_key=low_days_key,
    lock=locking.lock_partner,
    message=lambda balance, threshold: (
        f"The day balance is {balance} days, below the threshold of {threshold}."
    ),
    owners=lambda row: {"partner_id": row["id"]},
)


async def reconcile(alert: _Threshold, row_id: int) -> None:
    """The alert open exactly while the row's balance is below its threshold, as it is now."""
    async with unit_of_work.transaction() as conn:
        row = await alert.lock(conn, row_id)
        if row is not None:
            await settle(conn, alert, row)


async def settle(conn: BaseDBAsyncClient, alert: _Threshold, row: dict) -> None:
    """Raise or resolve ``alert`` to match ``row`` (locked by the caller)."""
    threshold, balance = row[alert.threshold_column], row[alert.balance_column]
    key = alert.dedupe_key(row["id"])
    if threshold is not None and balance < threshold:
        if not await _has_open(conn, key):
            await raise_alert(
                conn,
                kind=alert.kind,
                message=alert.message(balance, threshold),
                dedupe_key=key,
                **alert.owners(row),
            )
    else:
        await resolve_open(conn, key)


async def sweep() -> int:
    """The jobs loop: reconcile every threshold alert that disagrees with its balance; how many."""
    conn = connection()
    wallets = await conn.execute_query_dict(
        "SELECT w.id FROM wallets w WHERE"
        " (w.low_balance_threshold_micros IS NOT NULL"
        "  AND w.balance_micros < w.low_balance_threshold_micros)"
        " <> EXISTS (SELECT 1 FROM alerts a WHERE a.dedupe_key = 'LOW_BALANCE:' || w.id || ':open')"
        " ORDER BY w.id"
    )
    partners = await conn.execute_query_dict(
        "SELECT p.id FROM partners p WHERE"
        " (p.low_days_threshold IS NOT NULL AND p.day_balance < p.low_days_threshold)"
        " <> EXISTS (SELECT 1 FROM alerts a WHERE a.dedupe_key = 'LOW_DAYS:' || p.id || ':open')"
        " ORDER BY p.id"
    )
    for row in wallets:
        await reconcile(LOW_BALANCE, row["id"])
    for row in partners:
        await reconcile(LOW_DAYS, row["id"])
    return len(wallets) + len(partners)
