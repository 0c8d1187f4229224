"""The money ledger: the one module that writes wallet balances (design rule 1).

Every movement is one conditional UPDATE of the wallet row plus one INSERT of
the entry, inside the caller's transaction. The condition in the UPDATE is the
whole overdraft check: PostgreSQL re-evaluates it on the latest row version
after waiting for the row lock, so two concurrent debits can never both pass a
check only one could afford (rule 4). On PostgreSQL the two steps are one
statement (a data-modifying CTE), one round trip; SQLite runs them as two
statements inside its single-writer transaction.

Callers: ``backend.domain.wallets`` (and, later, charging, holds, invoices).
Nothing else writes ``wallets.balance_micros`` or ``ledger_entries``.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from backend.db import db_datetime, dialect_sql, is_postgres
from backend.domain import alerts
from backend.domain.clock import clock
from backend.domain.errors import InsufficientFunds, InvalidAmount, NotFound
from backend.domain.models import LedgerEntry, LedgerEntryKind
from backend.domain.money import MAX_BALANCE_MICROS, format_micros
from backend.events import publish


class FundsPolicy:
    """What a debit must respect."""

    # Refuse unless ``available`` (balance - held + credit limit) covers it.
    REQUIRE_AVAILABLE = "require_available"
    # Post anyway: the money was already spent (a delivered conversation).
    ALWAYS = "always"


@dataclass(frozen=True)
class Movement:
    entry: LedgerEntry
    balance_before_micros: int
    # The wallet row as this movement left it (read in the same statement).
    held_micros: int
    credit_limit_micros: int

    @property
    def balance_after_micros(self) -> int:
        return self.entry.balance_after_micros


# The guard each kind of movement puts in its UPDATE's WHERE clause; $2 is
# the signed amount and $3 the largest balance allowed, in both statements.
_GUARD_CREDIT = "balance_micros + $2 <= CAST($3 AS BIGINT)"
_GUARD_DEBIT_AVAILABLE = "balance_micros + $2 - held_micros + credit_limit_micros >= 0 AND balance_micros + $2 >= -CAST($3 AS BIGINT)"
_GUARD_DEBIT_ALWAYS = "balance_micros + $2 >= -CAST($3 AS BIGINT)"

_POSTGRES_MOVE = """
WITH moved AS (
    UPDATE wallets SET balance_micros = balance_micros + $2::bigint
    WHERE id = $1 AND {guard}
    RETURNING id, balance_micros, held_micros, credit_limit_micros,
              low_balance_threshold_micros, recharge_threshold_micros, customer_id
), entry AS (
    INSERT INTO ledger_entries
        (wallet_id, kind, amount_micros, balance_after_micros, comment, reference, created_at)
    SELECT id, $4::varchar, $2::bigint, balance_micros, $5::varchar, $6::varchar, $7::timestamptz
    FROM moved
    RETURNING id, balance_after_micros
)
SELECT entry.id, entry.balance_after_micros, moved.held_micros, moved.credit_limit_micros,
       moved.low_balance_threshold_micros, moved.recharge_threshold_micros, moved.customer_id
FROM entry CROSS JOIN moved
"""

_UPDATE_RETURNING = """
UPDATE wallets SET balance_micros = balance_micros + $2
WHERE id = $1 AND {guard}
RETURNING balance_micros, held_micros, credit_limit_micros, low_balance_threshold_micros,
          recharge_threshold_micros, customer_id
"""

_SQLITE_INSERT = """
INSERT INTO ledger_entries
    (wallet_id, kind, amount_micros, balance_after_micros, comment, reference, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id
"""


def _guard(amount_micros: int, policy: str) -> str:
    if amount_micros > 0:
        return _GUARD_CREDIT
    if policy == FundsPolicy.REQUIRE_AVAILABLE:
        return _GUARD_DEBIT_AVAILABLE
    return _GUARD_DEBIT_ALWAYS


async def post(
    conn: BaseDBAsyncClient,
    *,
    wallet_id: int,
    amount_micros: int,
    kind: LedgerEntryKind,
    policy: str = FundsPolicy.REQUIRE_AVAILABLE,
    comment: str | None = None,
    reference: str | None = None,
) -> Movement:
    """Move ``amount_micros`` (signed) on a wallet and append its entry, or raise.

    Must run inside a transaction opened by the caller (``conn``): the movement
    and whatever else the caller writes commit or roll back together.
    """
    if amount_micros == 0:
        raise InvalidAmount("A ledger movement must not be zero.")
    now = clock.now()
    guard = _guard(amount_micros, policy)
    if is_postgres(conn):
        sql = _POSTGRES_MOVE.format(guard=guard)
        params = [wallet_id, amount_micros, MAX_BALANCE_MICROS, kind.value, comment, reference, now]
        rows = await conn.execute_query_dict(sql, params)
        balance_after = rows[0]["balance_after_micros"] if rows else None
        entry_id = rows[0]["id"] if rows else None
    else:
        sql = dialect_sql(conn, _UPDATE_RETURNING.format(guard=guard))
        rows = await conn.execute_query_dict(sql, [wallet_id, amount_micros, MAX_BALANCE_MICROS])
        balance_after = rows[0]["balance_micros"] if rows else None
        entry_id = None
        if balance_after is not None:
            inserted = await conn.execute_query_dict(
                dialect_sql(conn, _SQLITE_INSERT),
                [
                    wallet_id,
                    kind.value,
                    amount_micros,
                    balance_after,
                    comment,
                    reference,
                    db_datetime(conn, now),
                ],
            )
            entry_id = inserted[0]["id"]
    if balance_after is None:
        await _explain_refusal(conn, wallet_id, amount_micros)
    await alerts.on_wallet_balance_moved(
        conn,
        wallet_id=wallet_id,
        customer_id=rows[0]["customer_id"],
        before=balance_after - amount_micros,
        after=balance_after,
        threshold=rows[0]["low_balance_threshold_micros"],
    )
    await publish.balance_moved(
        wallet_id=wallet_id, customer_id=rows[0]["customer_id"], entry_id=entry_id
    )
    _recharge_check(wallet_id, balance_after - amount_micros, balance_after, rows[0])
    entry = LedgerEntry(
        id=entry_id,
        wallet_id=wallet_id,
        kind=kind,
        amount_micros=amount_micros,
        balance_after_micros=balance_after,
        comment=comment,
        reference=reference,
        created_at=now,
    )
    entry._saved_in_db = True
    return Movement(
        entry=entry,
        balance_before_micros=balance_after - amount_micros,
        held_micros=rows[0]["held_micros"],
        credit_limit_micros=rows[0]["credit_limit_micros"],
    )


async def _explain_refusal(conn: BaseDBAsyncClient, wallet_id: int, amount_micros: int) -> None:
    rows = await conn.execute_query_dict(
        dialect_sql(
            conn,
            "SELECT balance_micros, held_micros, credit_limit_micros FROM wallets WHERE id = $1",
        ),
        [wallet_id],
    )
    if not rows:
        raise NotFound("No such wallet.", field="walletId")
    row = rows[0]
    if amount_micros > 0:
        raise InvalidAmount(
            "This credit would take the balance past the largest balance a wallet may hold.",
            field="amount",
        )
    available = row["balance_micros"] - row["held_micros"] + row["credit_limit_micros"]
    raise InsufficientFunds(
        f"Available funds are {format_micros(available)}; "
        f"{format_micros(-amount_micros)} was asked.",
        field="amount",
    )


def _recharge_check(wallet_id: int, before: int, after: int, row: dict) -> None:
    # Imported here: recharge posts through this module, so it cannot be imported at the top.
    from backend.domain import recharge

    recharge.on_balance_moved(
        wallet_id=wallet_id, before=before, after=after, threshold=row["recharge_threshold_micros"]
    )


@dataclass(frozen=True)
class Line:
    """One entry of a movement of several (``post_many``)."""

    amount_micros: int
    kind: LedgerEntryKind
    comment: str | None = None
    reference: str | None = None


async def post_many(
    conn: BaseDBAsyncClient, *, wallet_id: int, lines: list[Line], policy: str
) -> list[Movement]:
    """Several movements on one wallet as one: a conditional UPDATE by the total, one INSERT.

    For the statuses of one webhook request: two statements instead of two
    per line. All lines move the same way, so the guard on the total is the
    guard on every running balance; each entry carries its running balance.
    """
    if not lines:
        return []
    if any(line.amount_micros == 0 for line in lines):
        raise InvalidAmount("A ledger movement must not be zero.")
    if len({line.amount_micros > 0 for line in lines}) > 1:
        raise ValueError("post_many moves money one way only")
    total = sum(line.amount_micros for line in lines)
    now = clock.now()
    rows = await conn.execute_query_dict(
        dialect_sql(conn, _UPDATE_RETURNING.format(guard=_guard(total, policy))),
        [wallet_id, total, MAX_BALANCE_MICROS],
    )
    if not rows:
        await _explain_refusal(conn, wallet_id, total)
    wallet = rows[0]
    running = wallet["balance_micros"] - total
    before = running
    values: list[object] = []
    placeholders = []
    balances = []
    for n, line in enumerate(lines):
        running += line.amount_micros
        balances.append(running)
        base = n * 7
        placeholders.append("(" + ", ".join(f"${base + k}" for k in range(1, 8)) + ")")
        values += [
            wallet_id,
            line.kind.value,
            line.amount_micros,
            running,
            line.comment,
            line.reference,
            db_datetime(conn, now),
        ]
    inserted = await conn.execute_query_dict(
        dialect_sql(
            conn,
            "INSERT INTO ledger_entries (wallet_id, kind, amount_micros, balance_after_micros,"
            " comment, reference, created_at) VALUES " + ", ".join(placeholders) + " RETURNING id",
        ),
        values,
    )
    await alerts.on_wallet_balance_moved(
        conn,
        wallet_id=wallet_id,
        customer_id=wallet["customer_id"],
        before=before,
        after=running,
        threshold=wallet["low_balance_threshold_micros"],
    )
    _recharge_check(wallet_id, before, running, wallet)
    # Ids come from one sequence in one statement, so their order is the rows' order.
    entry_ids = sorted(r["id"] for r in inserted)
    for entry_id in entry_ids:
        await publish.balance_moved(
            wallet_id=wallet_id, customer_id=wallet["customer_id"], entry_id=entry_id
        )
    movements = []
    for entry_id, line, balance in zip(entry_ids, lines, balances, strict=True):
        entry = LedgerEntry(
            id=entry_id,
            wallet_id=wallet_id,
            kind=line.kind,
            amount_micros=line.amount_micros,
            balance_after_micros=balance,
            comment=line.comment,
            reference=line.reference,
            created_at=now,
        )
        entry._saved_in_db = True
        movements.append(
            Movement(
                entry=entry,
                balance_before_micros=balance - line.amount_micros,
                held_micros=wallet["held_micros"],
                credit_limit_micros=wallet["credit_limit_micros"],
            )
        )
    return movements


# ---- holds: money reserved against ``available``, not yet moved ------------


async def hold(conn: BaseDBAsyncClient, *, wallet_id: int, amount_micros: int) -> None:
    """Reserve ``amount_micros`` if ``available`` covers it, or raise INSUFFICIENT_FUNDS."""
    if amount_micros <= 0:
        raise InvalidAmount("A hold must be positive.")
    rows = await conn.execute_query_dict(
        dialect_sql(
            conn,
            "UPDATE wallets SET held_micros = held_micros + $2"
            " WHERE id = $1 AND balance_micros - held_micros - $2 + credit_limit_micros >= 0"
            " RETURNING held_micros",
        ),
        [wallet_id, amount_micros],
    )
    if not rows:
        await _explain_refusal(conn, wallet_id, -amount_micros)


async def release_held(conn: BaseDBAsyncClient, *, wallet_id: int, amount_micros: int) -> None:
    """Give back reserved money (a hold captured, released or expired)."""
    if amount_micros <= 0:
        return
    rows = await conn.execute_query_dict(
        dialect_sql(
            conn,
            "UPDATE wallets SET held_micros = held_micros - $2"
            " WHERE id = $1 AND held_micros >= $2 RETURNING held_micros",
        ),
        [wallet_id, amount_micros],
    )
    if not rows:
        raise RuntimeError(f"wallet {wallet_id} holds less than {amount_micros} to release")
