"""The money ledger: the one module that writes wallet balances (design rule 1).

Every movement goes through the guarded mechanism of ``movements``: one
conditional UPDATE of the wallet row plus one INSERT of its entries, in the
caller's unit of work (on PostgreSQL one statement). The guard is the whole
overdraft check, and the caller's tenant can be folded into it.

This module writes, returns the movement (the wallet row as the movement left
it, and the entry) and records it in the unit of work; it calls nobody. What
follows a committed movement (alerts, auto-recharge, events) is decided by
``backend.domain.reactions``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from backend.db import dialect_sql, model_from_row
from backend.domain import movements, unit_of_work
from backend.domain.clock import clock
from backend.domain.errors import InsufficientFunds, InvalidAmount, NotFound
from backend.domain.models import LedgerEntry, LedgerEntryKind, Wallet
from backend.domain.money import MAX_BALANCE_MICROS, format_micros

BOOK = movements.Book(
    account_table="wallets",
    balance_column="balance_micros",
    entry_table="ledger_entries",
    entry_account_column="wallet_id",
    entry_amount_column="amount_micros",
    entry_balance_column="balance_after_micros",
    entry_columns=("kind", "comment", "reference"),
    entry_column_types=("varchar", "varchar", "varchar"),
    owner_partner_sql="(SELECT partner_id FROM customers WHERE customers.id = wallets.customer_id)",
)


class FundsPolicy:
    """What a debit must respect."""

    # Refuse unless ``available`` (balance - held + credit limit) covers it.
    REQUIRE_AVAILABLE = "require_available"
    # Post anyway: the money was already spent (a delivered conversation).
    ALWAYS = "always"


@dataclass(frozen=True)
class Tenant:
    """Whose wallets the caller may move, checked inside the movement's own statement."""

    partner_id: int | None = None
    customer_id: int | None = None

    def condition(self) -> movements.Condition | None:
        if self.customer_id is not None:
            return movements.Condition("customer_id = {}", self.customer_id)
        if self.partner_id is not None:
            return movements.Condition(
                "EXISTS (SELECT 1 FROM customers WHERE customers.id = wallets.customer_id"
                " AND customers.partner_id = {})",
                self.partner_id,
            )
        return None

    def allows(self, partner_id: int, customer_id: int) -> bool:
        if self.customer_id is not None:
            return customer_id == self.customer_id
        return self.partner_id is None or partner_id == self.partner_id


ANYONE = Tenant()


@dataclass(frozen=True)
class Movement:
    """One entry on one wallet, and the wallet row as that entry left it."""

    wallet_row: dict[str, Any]
    entry_row: dict[str, Any]
    partner_id: int
    balance_before_micros: int

    @property
    def wallet_id(self) -> int:
        return self.wallet_row["id"]

    @property
    def customer_id(self) -> int:
        return self.wallet_row["customer_id"]

    @property
    def balance_after_micros(self) -> int:
        return self.entry_row["balance_after_micros"]

    @property
    def held_micros(self) -> int:
        return self.wallet_row["held_micros"]

    @property
    def credit_limit_micros(self) -> int:
        return self.wallet_row["credit_limit_micros"]

    @property
    def wallet(self) -> Wallet:
        return model_from_row(Wallet, self.wallet_row)

    @property
    def entry(self) -> LedgerEntry:
        entry = LedgerEntry(**self.entry_row)
        entry._saved_in_db = True
        return entry


# The guard each kind of movement puts in its UPDATE's WHERE clause; $2 is
# the signed amount and $3 the largest balance allowed.
_GUARD_CREDIT = "balance_micros + $2 <= CAST($3 AS BIGINT)"
_GUARD_DEBIT_AVAILABLE = (
    "balance_micros + $2 - held_micros + credit_limit_micros >= 0"
    " AND balance_micros + $2 >= -CAST($3 AS BIGINT)"
)
_GUARD_DEBIT_ALWAYS = "balance_micros + $2 >= -CAST($3 AS BIGINT)"


def _guard(amount_micros: int, policy: str) -> str:
    if amount_micros > 0:
        return _GUARD_CREDIT
    if policy == FundsPolicy.REQUIRE_AVAILABLE:
        return _GUARD_DEBIT_AVAILABLE
    return _GUARD_DEBIT_ALWAYS


@dataclass(frozen=True)
class Line:
    """One entry of a movement of several (``post_many``)."""

    amount_micros: int
    kind: LedgerEntryKind
    comment: str | None = None
    reference: str | None = None


async def post(
    conn: BaseDBAsyncClient,
    *,
    wallet_id: int,
    amount_micros: int,
    kind: LedgerEntryKind,
    policy: str = FundsPolicy.REQUIRE_AVAILABLE,
    comment: str | None = None,
    reference: str | None = None,
    tenant: Tenant = ANYONE,
) -> Movement:
    """Move ``amount_micros`` (signed) on a wallet and append its entry, or raise.

    Runs in the caller's unit of work (``conn``): the movement and whatever
    else the caller writes commit or roll back together.
    """
    (movement,) = await post_many(
        conn,
        wallet_id=wallet_id,
        lines=[Line(amount_micros, kind, comment, reference)],
        policy=policy,
        tenant=tenant,
    )
    return movement


async def post_many(
    conn: BaseDBAsyncClient,
    *,
    wallet_id: int,
    lines: list[Line],
    policy: str,
    tenant: Tenant = ANYONE,
) -> list[Movement]:
    """Several movements on one wallet as one (the statuses of one webhook request)."""
    if not lines:
        return []
    if any(line.amount_micros == 0 for line in lines):
        raise InvalidAmount("A ledger movement must not be zero.")
    if len({line.amount_micros > 0 for line in lines}) > 1:
        raise ValueError("post_many moves money one way only")
    total = sum(line.amount_micros for line in lines)
    now = clock.now()
    applied = await movements.apply(
        conn,
        BOOK,
        account_id=wallet_id,
        lines=[
            movements.Line(line.amount_micros, (line.kind.value, line.comment, line.reference))
            for line in lines
        ],
        guard=_guard(total, policy),
        limit=MAX_BALANCE_MICROS,
        now=now,
        condition=tenant.condition(),
    )
    if applied is None:
        await _explain_refusal(conn, wallet_id, total, tenant)
        raise AssertionError("unreachable: a refusal is always explained")
    wallet = dict(applied.account)
    partner_id = wallet.pop("owner_partner_id")
    made = []
    for entry in applied.entries:
        entry["kind"] = LedgerEntryKind(entry["kind"])
        after = entry["balance_after_micros"]
        movement = Movement(
            # Each movement sees the wallet as its own entry left it.
            wallet_row={**wallet, "balance_micros": after},
            entry_row=entry,
            partner_id=partner_id,
            balance_before_micros=after - entry["amount_micros"],
        )
        unit_of_work.record_movement(movement)
        made.append(movement)
    return made


async def _explain_refusal(
    conn: BaseDBAsyncClient, wallet_id: int, amount_micros: int, tenant: Tenant = ANYONE
) -> None:
    rows = await conn.execute_query_dict(
        dialect_sql(
            conn,
            "SELECT w.balance_micros, w.held_micros, w.credit_limit_micros, w.customer_id,"
            " c.partner_id FROM wallets w JOIN customers c ON c.id = w.customer_id"
            " WHERE w.id = $1",
        ),
        [wallet_id],
    )
    if not rows or not tenant.allows(rows[0]["partner_id"], rows[0]["customer_id"]):
        raise NotFound("No such wallet.", field="wallet_id")
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
