"""Row locks, taken in one place and always in primary-key order.

Two transactions that lock the same rows in the same order cannot deadlock.
On PostgreSQL this is ``SELECT ... FOR UPDATE``; SQLite runs one writer at a
time, so the plain read inside its transaction is already exclusive.
"""

from __future__ import annotations

from collections.abc import Iterable

from tortoise.backends.base.client import BaseDBAsyncClient

from backend.db import dialect_sql, is_postgres, model_from_row
from backend.domain.models import Channel


async def lock_channels(conn: BaseDBAsyncClient, channel_ids: Iterable[int]) -> list[Channel]:
    """The channels, locked for this transaction, in id order (missing ones left out)."""
    ids = sorted(set(channel_ids))
    if not ids:
        return []
    placeholders = ", ".join(f"${n}" for n in range(1, len(ids) + 1))
    sql = f"SELECT * FROM channels WHERE id IN ({placeholders}) ORDER BY id"
    if is_postgres(conn):
        sql += " FOR UPDATE"
    rows = await conn.execute_query_dict(dialect_sql(conn, sql), ids)
    return [model_from_row(Channel, row) for row in rows]


async def lock_customer(conn: BaseDBAsyncClient, customer_id: int) -> None:
    """The customer row, locked: every change of its suspension is serialised on it.

    Taken in a statement of its own, before the one that reads the invoices:
    under READ COMMITTED each statement sees what had committed when it began,
    so the read that follows the wait sees the other transaction's invoices.
    (One UPDATE with the check inside would re-check only the customer row.)
    Lock order everywhere: invoice, then wallet, then customer.
    """
    if is_postgres(conn):
        await conn.execute_query("SELECT id FROM customers WHERE id = $1 FOR UPDATE", [customer_id])


async def _lock_one(conn: BaseDBAsyncClient, sql: str, row_id: int) -> dict | None:
    if is_postgres(conn):
        sql += " FOR UPDATE"
    rows = await conn.execute_query_dict(dialect_sql(conn, sql), [row_id])
    return rows[0] if rows else None


async def lock_wallet(conn: BaseDBAsyncClient, wallet_id: int) -> dict | None:
    """The wallet row (with its customer's ``partner_id``), locked; None if there is none."""
    return await _lock_one(
        conn,
        "SELECT w.*, (SELECT partner_id FROM customers c WHERE c.id = w.customer_id) AS partner_id"
        " FROM wallets w WHERE w.id = $1",
        wallet_id,
    )


async def lock_partner(conn: BaseDBAsyncClient, partner_id: int) -> dict | None:
    """The partner row, locked; None if there is none."""
    return await _lock_one(conn, "SELECT * FROM partners WHERE id = $1", partner_id)
