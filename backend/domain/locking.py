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
