"""The day ledger: the one module that writes partner day balances (design rule 1).

It works like the money ledger (``backend.domain.ledger``): one conditional
UPDATE of the partner row and one INSERT of the entry in the caller's
transaction. The condition ``day_balance + days >= 0`` is the whole
"enough days?" check, so concurrent allocations cannot overdraw the balance;
the CHECK constraint ``day_balance >= 0`` is the database's second line.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from backend.db import dialect_sql, is_postgres
from backend.domain.clock import clock
from backend.domain.errors import InsufficientDays, InvalidDays, NotFound
from backend.domain.ledger import db_datetime
from backend.domain.models import DayEntry, DayEntryKind

# Far more days than any partner will ever buy, far inside a 64-bit column.
MAX_DAY_BALANCE = 10**12

_POSTGRES_MOVE = """
WITH moved AS (
    UPDATE partners SET day_balance = day_balance + $2::bigint
    WHERE id = $1 AND day_balance + $2 >= 0 AND day_balance + $2 <= $3
    RETURNING id, day_balance
)
INSERT INTO day_entries (partner_id, kind, days, day_balance_after, comment, created_at)
SELECT id, $4::varchar, $2::bigint, day_balance, $5::varchar, $6::timestamptz FROM moved
RETURNING id, day_balance_after
"""

_SQLITE_UPDATE = """
UPDATE partners SET day_balance = day_balance + $2
WHERE id = $1 AND day_balance + $2 >= 0 AND day_balance + $2 <= $3
RETURNING day_balance
"""

_SQLITE_INSERT = """
INSERT INTO day_entries (partner_id, kind, days, day_balance_after, comment, created_at)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id
"""


@dataclass(frozen=True)
class DayMovement:
    entry: DayEntry
    balance_before: int


async def post(
    conn: BaseDBAsyncClient,
    *,
    partner_id: int,
    days: int,
    kind: DayEntryKind,
    comment: str,
) -> DayMovement:
    """Move ``days`` (signed; 0 only for a free trial's history line) and append the entry."""
    now = clock.now()
    if is_postgres(conn):
        rows = await conn.execute_query_dict(
            _POSTGRES_MOVE,
            [partner_id, days, MAX_DAY_BALANCE, kind.value, comment, now],
        )
        balance_after = rows[0]["day_balance_after"] if rows else None
        entry_id = rows[0]["id"] if rows else None
    else:
        rows = await conn.execute_query_dict(
            dialect_sql(conn, _SQLITE_UPDATE), [partner_id, days, MAX_DAY_BALANCE]
        )
        balance_after = rows[0]["day_balance"] if rows else None
        if balance_after is not None:
            inserted = await conn.execute_query_dict(
                dialect_sql(conn, _SQLITE_INSERT),
                [partner_id, kind.value, days, balance_after, comment, db_datetime(conn, now)],
            )
            entry_id = inserted[0]["id"]
    if balance_after is None:
        await _explain_refusal(conn, partner_id, days)
    entry = DayEntry(
        id=entry_id,
        partner_id=partner_id,
        kind=kind,
        days=days,
        day_balance_after=balance_after,
        comment=comment,
        created_at=now,
    )
    entry._saved_in_db = True
    return DayMovement(entry=entry, balance_before=balance_after - days)


async def _explain_refusal(conn: BaseDBAsyncClient, partner_id: int, days: int) -> None:
    rows = await conn.execute_query_dict(
        dialect_sql(conn, "SELECT day_balance FROM partners WHERE id = $1"), [partner_id]
    )
    if not rows:
        raise NotFound("No such partner.", field="partnerId")
    if days > 0:
        raise InvalidDays("This would take the day balance past its largest value.", field="days")
    raise InsufficientDays(
        f"The partner has {rows[0]['day_balance']} days; {-days} were needed.", field="days"
    )
