"""Row locks: every ``FOR UPDATE`` of the project is here, and taken in one order.

Two transactions that lock the same rows in the same order cannot deadlock.
On PostgreSQL this is ``SELECT ... FOR UPDATE``; SQLite runs one writer at a
time, so the plain read inside its transaction is already exclusive.

The lock order. A transaction that locks rows of several kinds takes them in
this order, and rows of one kind in primary-key order:

1. the idempotency record (its unique index, ``idempotency.run_once``);
2. the invoice (a conditional UPDATE of its status);
3. the hold (``lock_hold``);
4. the auto-recharge rule (``lock_recharge_rule``);
5. wallets, by id (``lock_wallet``, or the guarded UPDATE of a movement);
6. the customer (``lock_customer``);
7. channels, by id (``lock_channels``);
8. the partner (``lock_partner``, or the guarded UPDATE of a day movement).

A movement's UPDATE is a lock too: a transaction that moves money on two
wallets moves them in id order (``charging`` does), and one that allocates
days locks its channels before the partner's balance moves.
"""

from __future__ import annotations

from collections.abc import Iterable

from tortoise.backends.base.client import BaseDBAsyncClient

from backend.db import dialect_sql, is_postgres, model_from_row
from backend.domain.models import AutoRechargeRule, Channel, Hold


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


async def lock_hold(conn: BaseDBAsyncClient, hold_id: int) -> Hold | None:
    """The hold, locked; None if there is none."""
    row = await _lock_one(conn, "SELECT * FROM holds WHERE id = $1", hold_id)
    return None if row is None else model_from_row(Hold, row)


async def lock_recharge_rule(
    conn: BaseDBAsyncClient, wallet_id: int, *, enabled_only: bool = False
) -> AutoRechargeRule | None:
    """The wallet's auto-recharge rule, locked (only an enabled one if asked); or None."""
    sql = "SELECT * FROM auto_recharge_rules WHERE wallet_id = $1"
    if enabled_only:
        sql += " AND enabled = TRUE"
    row = await _lock_one(conn, sql, wallet_id)
    return None if row is None else model_from_row(AutoRechargeRule, row)
