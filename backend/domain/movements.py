"""The one guarded balance-and-entry mechanism, for money and for days (design rule 1).

A movement is one conditional UPDATE of the account row and one INSERT of its
entries, in the caller's unit of work:

- The guard in the UPDATE's WHERE clause is the whole "can it afford this?"
  check. PostgreSQL re-evaluates it on the latest row version after waiting
  for the row lock, so two concurrent debits can never both pass a check only
  one could afford (rule 4).
- A tenant condition may sit beside the guard, so "is this caller allowed to
  move this account?" costs no statement of its own.
- On PostgreSQL the UPDATE and the INSERT are one statement (a data-modifying
  CTE), one round trip however many entries; SQLite runs them as two
  statements inside its single-writer transaction.
- Several lines moving the same way are applied as one: the guard on their
  total is the guard on every running balance, and each entry records its
  running balance.

This module writes and returns; it calls nobody. ``ledger`` (money) and
``day_ledger`` (days) describe their tables as a ``Book``, choose the guard,
and turn what comes back into movements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from backend.db import db_datetime, dialect_sql, is_postgres

Row = dict[str, Any]


@dataclass(frozen=True)
class Book:
    """Where one kind of balance and its entries live."""

    account_table: str
    balance_column: str
    entry_table: str
    entry_account_column: str
    entry_amount_column: str
    entry_balance_column: str
    # The other columns an entry carries (beyond account, amount, balance, time),
    # in the order of each line's ``values``, with their PostgreSQL types.
    entry_columns: tuple[str, ...]
    entry_column_types: tuple[str, ...]
    # A scalar SQL expression over the account row naming its partner, returned
    # as ``owner_partner_id`` (events and alerts need it; no second read).
    owner_partner_sql: str | None = None


@dataclass(frozen=True)
class Line:
    amount: int  # signed; all lines of one movement move the same way
    values: tuple[Any, ...]  # the book's entry_columns, in order


@dataclass(frozen=True)
class Applied:
    """What a movement wrote: the account row as it left it, and each entry's row, in line order."""

    account: Row
    entries: list[Row]


@dataclass(frozen=True)
class Condition:
    """SQL over the account row added to the guard, with ``{}`` where its one parameter goes.

    The caller's tenant, for one: a foreign account is then simply not moved.
    """

    sql: str
    param: Any


def _update_sql(book: Book, guard: str, condition: str | None) -> str:
    """The guarded UPDATE: $1 the account, $2 the signed total, $3 the limit, $4 the condition's."""
    where = f"id = $1 AND {guard}"
    if condition is not None:
        where += " AND " + condition.format("$4")
    returning = "*"
    if book.owner_partner_sql:
        returning += f", {book.owner_partner_sql} AS owner_partner_id"
    return (
        f"UPDATE {book.account_table} SET {book.balance_column} = {book.balance_column} + $2"
        f" WHERE {where} RETURNING {returning}"
    )


def postgres_statement(book: Book, guard: str, condition: str | None = None) -> str:
    """The whole movement as one PostgreSQL statement (a data-modifying CTE).

    Parameters: $1 account id, $2 signed total, $3 limit, [$4 the condition's],
    then one array per entry column - amounts, running totals, then the book's
    ``entry_columns`` - and last the time of the movement. One element per line.
    """
    base = 3 if condition is None else 4
    array_types = ["bigint", "bigint", *book.entry_column_types]
    unnest = ", ".join(f"${base + 1 + n}::{t}[]" for n, t in enumerate(array_types))
    extra_names = [f"c{n}" for n in range(len(book.entry_columns))]
    columns = ", ".join(
        [
            book.entry_account_column,
            book.entry_amount_column,
            book.entry_balance_column,
            "created_at",
            *book.entry_columns,
        ]
    )
    picked = "".join(f", line.{name}" for name in extra_names)
    return (
        f"WITH moved AS ({_update_sql(book, guard, condition)}), entry AS ("
        f" INSERT INTO {book.entry_table} ({columns})"
        f" SELECT moved.id, line.amount, moved.{book.balance_column} - $2 + line.running,"
        f" ${base + len(array_types) + 1}::timestamptz{picked}"
        f" FROM moved CROSS JOIN unnest({unnest}) WITH ORDINALITY"
        f" AS line(amount, running{''.join(', ' + n for n in extra_names)}, n)"
        f" ORDER BY line.n RETURNING id, {book.entry_balance_column})"
        f" SELECT moved.*, entry.id AS entry__id, entry.{book.entry_balance_column} AS entry__balance"
        f" FROM moved CROSS JOIN entry"
    )


async def apply(
    conn: BaseDBAsyncClient,
    book: Book,
    *,
    account_id: int,
    lines: Sequence[Line],
    guard: str,
    limit: int,
    now: datetime,
    condition: Condition | None = None,
) -> Applied | None:
    """Move the account by the lines' total and append their entries, or write nothing.

    ``guard`` is SQL over the account row in which ``$2`` is the signed total
    and ``$3`` is ``limit``. None means the guard or the condition refused (or
    there is no such account): nothing was written; the caller says why.
    """
    if len(lines) > 1 and any(line.amount == 0 for line in lines):
        raise ValueError("only a movement of one line may be zero")
    if len({line.amount > 0 for line in lines if line.amount}) > 1:
        raise ValueError("all lines of one movement move the same way")
    total = sum(line.amount for line in lines)
    params: list[Any] = [account_id, total, limit]
    if condition is not None:
        params.append(condition.param)
    condition_sql = condition.sql if condition is not None else None
    running: list[int] = []
    so_far = 0
    for line in lines:
        so_far += line.amount
        running.append(so_far)
    if is_postgres(conn):
        arrays: list[Any] = [[line.amount for line in lines], running]
        arrays += [[line.values[n] for line in lines] for n in range(len(book.entry_columns))]
        rows = await conn.execute_query_dict(
            postgres_statement(book, guard, condition_sql), [*params, *arrays, now]
        )
        if not rows:
            return None
        account = {k: v for k, v in rows[0].items() if not k.startswith("entry__")}
        ids = {row["entry__balance"]: row["entry__id"] for row in rows}
    else:
        updated = await conn.execute_query_dict(
            dialect_sql(conn, _update_sql(book, guard, condition_sql)), params
        )
        if not updated:
            return None
        account = updated[0]
        ids = await _insert_sqlite(conn, book, account, lines, running, total, now)
    # Balances within one movement are strictly monotonic (no line is zero
    # unless it is alone), so each entry is told apart by its running balance.
    start = account[book.balance_column] - total
    entries = []
    for line, offset in zip(lines, running, strict=True):
        balance = start + offset
        entry: Row = {
            "id": ids[balance],
            book.entry_account_column: account_id,
            book.entry_amount_column: line.amount,
            book.entry_balance_column: balance,
            "created_at": now,
        }
        entry.update(zip(book.entry_columns, line.values, strict=True))
        entries.append(entry)
    return Applied(account=account, entries=entries)


async def _insert_sqlite(
    conn: BaseDBAsyncClient,
    book: Book,
    account: Row,
    lines: Sequence[Line],
    running: list[int],
    total: int,
    now: datetime,
) -> dict[int, int]:
    start = account[book.balance_column] - total
    width = 4 + len(book.entry_columns)
    placeholders = []
    values: list[Any] = []
    for n, (line, offset) in enumerate(zip(lines, running, strict=True)):
        placeholders.append("(" + ", ".join(f"${n * width + k}" for k in range(1, width + 1)) + ")")
        values += [
            account["id"],
            line.amount,
            start + offset,
            db_datetime(conn, now),
            *line.values,
        ]
    columns = ", ".join(
        [
            book.entry_account_column,
            book.entry_amount_column,
            book.entry_balance_column,
            "created_at",
            *book.entry_columns,
        ]
    )
    inserted = await conn.execute_query_dict(
        dialect_sql(
            conn,
            f"INSERT INTO {book.entry_table} ({columns}) VALUES {', '.join(placeholders)}"
            f" RETURNING id, {book.entry_balance_column}",
        ),
        values,
    )
    return {row[book.entry_balance_column]: row["id"] for row in inserted}
