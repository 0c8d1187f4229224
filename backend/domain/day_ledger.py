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

from backend.db import db_datetime, dialect_sql, is_postgres
from backend.domain import alerts
from backend.domain.clock import clock
from backend.domain.errors import InsufficientDays, InvalidDays, NotFound
from backend.domain.models import DayEntry, DayEntryKind
from backend.events import publish

# Far more days than any partner will ever buy, far inside a 64-bit column.
MAX_DAY_BALANCE = 10**12

_POSTGRES_MOVE = """
WITH moved AS (
    UPDATE partners SET day_balance = day_balance + $2::bigint
    WHERE id = $1 AND day_balance + $2 >= 0 AND day_balance + $2 <= $3
    RETURNING id, day_balance, low_days_threshold
), entry AS (
    INSERT INTO day_entries (partner_id, kind, days, day_balance_after, comment, channel_id, created_at)
    SELECT id, $4::varchar, $2::bigint, day_balance, $5::varchar, $7::bigint, $6::timestamptz
    FROM moved
    RETURNING id, day_balance_after
)
SELECT entry.id, entry.day_balance_after, moved.low_days_threshold FROM entry CROSS JOIN moved
"""

# Move the balance by a total; the entries are then written with running balances.
_UPDATE = """
UPDATE partners SET day_balance = day_balance + $2
WHERE id = $1 AND day_balance + $2 >= 0 AND day_balance + $2 <= $3
RETURNING day_balance, low_days_threshold
"""


@dataclass(frozen=True)
class DayItem:
    """One line of a movement of several: days for a channel, with its comment."""

    days: int
    kind: DayEntryKind
    comment: str
    channel_id: int | None = None


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
    channel_id: int | None = None,
) -> DayMovement:
    """Move ``days`` (signed; 0 only for a history line such as a free trial) and append the entry."""
    if not is_postgres(conn):
        (movement,) = await post_many(
            conn, partner_id=partner_id, items=[DayItem(days, kind, comment, channel_id)]
        )
        return movement
    now = clock.now()
    rows = await conn.execute_query_dict(
        _POSTGRES_MOVE,
        [partner_id, days, MAX_DAY_BALANCE, kind.value, comment, now, channel_id],
    )
    if not rows:
        await _explain_refusal(conn, partner_id, days)
    after = rows[0]["day_balance_after"]
    await alerts.on_day_balance_moved(
        conn,
        partner_id=partner_id,
        before=after - days,
        after=after,
        threshold=rows[0]["low_days_threshold"],
    )
    entry = _entry(rows[0]["id"], partner_id, DayItem(days, kind, comment, channel_id), after, now)
    publish.days_moved(partner_id=partner_id, entry_id=entry.id)
    return DayMovement(entry=entry, balance_before=after - days)


async def post_many(
    conn: BaseDBAsyncClient, *, partner_id: int, items: list[DayItem]
) -> list[DayMovement]:
    """Several movements as one: one conditional UPDATE for the total, one INSERT of all entries.

    All items move the same way (all allocations, say), so the balance never
    dips below zero part-way; the entries carry the running balance in order.
    """
    if not items:
        return []
    if any(item.days > 0 for item in items) and any(item.days < 0 for item in items):
        raise ValueError("post_many moves days one way only")
    now = clock.now()
    total = sum(item.days for item in items)
    rows = await conn.execute_query_dict(
        dialect_sql(conn, _UPDATE), [partner_id, total, MAX_DAY_BALANCE]
    )
    if not rows:
        await _explain_refusal(conn, partner_id, total)
    before = rows[0]["day_balance"] - total
    running = before
    values: list[object] = []
    placeholders = []
    balances = []
    for n, item in enumerate(items):
        running += item.days
        balances.append(running)
        base = n * 7
        placeholders.append("(" + ", ".join(f"${base + k}" for k in range(1, 8)) + ")")
        values += [
            partner_id,
            item.kind.value,
            item.days,
            running,
            item.comment,
            item.channel_id,
            db_datetime(conn, now),
        ]
    inserted = await conn.execute_query_dict(
        dialect_sql(
            conn,
            "INSERT INTO day_entries (partner_id, kind, days, day_balance_after, comment,"
            " channel_id, created_at) VALUES " + ", ".join(placeholders) + " RETURNING id",
        ),
        values,
    )
    # Ids come from one sequence in one statement, so their order is the rows' order.
    ids = sorted(row["id"] for row in inserted)
    for entry_id in ids:
        publish.days_moved(partner_id=partner_id, entry_id=entry_id)
    await alerts.on_day_balance_moved(
        conn,
        partner_id=partner_id,
        before=before,
        after=running,
        threshold=rows[0]["low_days_threshold"],
    )
    return [
        DayMovement(
            entry=_entry(entry_id, partner_id, item, balance, now),
            balance_before=balance - item.days,
        )
        for entry_id, item, balance in zip(ids, items, balances, strict=True)
    ]


def _entry(entry_id: int, partner_id: int, item: DayItem, balance_after: int, now) -> DayEntry:
    entry = DayEntry(
        id=entry_id,
        partner_id=partner_id,
        kind=item.kind,
        days=item.days,
        day_balance_after=balance_after,
        comment=item.comment,
        channel_id=item.channel_id,
        created_at=now,
    )
    entry._saved_in_db = True
    return entry


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
