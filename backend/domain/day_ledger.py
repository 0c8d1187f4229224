"""The day ledger: the one module that writes partner day balances (design rule 1).

It is the money ledger's twin over the same mechanism (``movements``): one
conditional UPDATE of the partner row and one INSERT of the entries in the
caller's unit of work. The guard ``day_balance + days >= 0`` is the whole
"enough days?" check, so concurrent allocations cannot overdraw the balance;
the CHECK constraint ``day_balance >= 0`` is the database's second line.

It writes, returns the movement (the partner row as it left it, the entry)
and records it in the unit of work; it calls nobody
(``backend.domain.reactions`` decides what follows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from backend.db import dialect_sql, model_from_row
from backend.domain import movements, unit_of_work
from backend.domain.clock import clock
from backend.domain.errors import InsufficientDays, InvalidDays, NotFound
from backend.domain.models import DayEntry, DayEntryKind, Partner

# Far more days than any partner will ever buy, far inside a 64-bit column.
MAX_DAY_BALANCE = 10**12

BOOK = movements.Book(
    account_table="partners",
    balance_column="day_balance",
    entry_table="day_entries",
    entry_account_column="partner_id",
    entry_amount_column="days",
    entry_balance_column="day_balance_after",
    entry_columns=("kind", "comment", "channel_id"),
    entry_column_types=("varchar", "varchar", "bigint"),
)
_GUARD = "day_balance + $2 >= 0 AND day_balance + $2 <= $3"


@dataclass(frozen=True)
class DayItem:
    """One line of a movement of several: days for a channel, with its comment."""

    days: int
    kind: DayEntryKind
    comment: str
    channel_id: int | None = None


@dataclass(frozen=True)
class DayMovement:
    """One day entry, and the partner row as that entry left it."""

    partner_row: dict[str, Any]
    entry_row: dict[str, Any]
    balance_before: int

    @property
    def partner_id(self) -> int:
        return self.partner_row["id"]

    @property
    def balance_after(self) -> int:
        return self.entry_row["day_balance_after"]

    @property
    def partner(self) -> Partner:
        return model_from_row(Partner, self.partner_row)

    @property
    def entry(self) -> DayEntry:
        entry = DayEntry(**self.entry_row)
        entry._saved_in_db = True
        return entry


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
    (movement,) = await post_many(
        conn, partner_id=partner_id, items=[DayItem(days, kind, comment, channel_id)]
    )
    return movement


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
    total = sum(item.days for item in items)
    applied = await movements.apply(
        conn,
        BOOK,
        account_id=partner_id,
        lines=[
            movements.Line(item.days, (item.kind.value, item.comment, item.channel_id))
            for item in items
        ],
        guard=_GUARD,
        limit=MAX_DAY_BALANCE,
        now=clock.now(),
    )
    if applied is None:
        await _explain_refusal(conn, partner_id, total)
        raise AssertionError("unreachable: a refusal is always explained")
    made = []
    for entry in applied.entries:
        entry["kind"] = DayEntryKind(entry["kind"])
        after = entry["day_balance_after"]
        movement = DayMovement(
            partner_row={**applied.account, "day_balance": after},
            entry_row=entry,
            balance_before=after - entry["days"],
        )
        unit_of_work.record_movement(movement)
        made.append(movement)
    return made


async def _explain_refusal(conn: BaseDBAsyncClient, partner_id: int, days: int) -> None:
    rows = await conn.execute_query_dict(
        dialect_sql(conn, "SELECT day_balance FROM partners WHERE id = $1"), [partner_id]
    )
    if not rows:
        raise NotFound("No such partner.", field="partner_id")
    if days > 0:
        raise InvalidDays("This would take the day balance past its largest value.", field="days")
    raise InsufficientDays(
        f"The partner has {rows[0]['day_balance']} days; {-days} were needed.", field="days"
    )
