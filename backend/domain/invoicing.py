"""Monthly invoice generation: one DRAFT per customer and period, built in bulk.

The month's usage is aggregated by the database (GROUP BY over conversations
and integration charges), never loaded row by row: a partner with a million
conversations costs one grouped scan. Invoices are then written in chunks,
each one transaction of two multi-row INSERTs (invoices, then their lines).

Idempotent and safe to run concurrently: an invoice is inserted with
``ON CONFLICT (customer_id, period) DO NOTHING`` and only the rows this call
inserted get lines, so two runs racing over one customer make one invoice
with one set of lines (the loser's INSERT waits on the winner's unique key).

What an invoice holds (design, "Invoices"):
- the plan fee, due: pro rata by days for a customer whose plan started
  mid-month (created mid-month), rounded half-even;
- tax at the plan's rate on what is due, rounded half-even;
- prepaid statement lines, already settled from the wallet and not in the
  total: conversations grouped by category, market and unit price, and
  integration charges grouped by comment and amount.
A customer with no plan and no usage in the month gets no invoice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient

from backend.db import connection, db_datetime, dialect_sql, is_postgres
from backend.domain import access
from backend.domain.access import Principal
from backend.domain.clock import clock
from backend.domain.models import Invoice, InvoiceStatus, Role
from backend.domain.money import divide_half_even, percent_of
from backend.domain.periods import Period
from backend.domain.rates import ANY_MARKET
from backend.domain.unit_of_work import transaction

# Invoices per transaction: big enough to amortise round trips, small enough
# to stay under PostgreSQL's 32,767 bind parameters and to commit often.
CHUNK = 500
LINE_CHUNK = 2000
# The monthly run waits this long after the month ends: charges committing in
# its last instants make the statement.
GRACE = timedelta(hours=1)
# After an outage the jobs loop invoices at most this many missed months.
CATCH_UP_MONTHS = 3


@dataclass
class Line:
    description: str
    quantity: int
    unit_price_micros: int
    prepaid: bool

    @property
    def amount_micros(self) -> int:
        return self.quantity * self.unit_price_micros


@dataclass
class Draft:
    customer_id: int
    partner_id: int
    currency_code: str
    plan_id: int | None = None
    tax_rate_percent_micros: int = 0
    lines: list[Line] = field(default_factory=list)

    @property
    def subtotal_micros(self) -> int:
        return sum(line.amount_micros for line in self.lines if not line.prepaid)

    @property
    def tax_micros(self) -> int:
        return percent_of(self.subtotal_micros, self.tax_rate_percent_micros)


def _label(category: str) -> str:
    return category.replace("_", " ").capitalize()


def plan_fee_line(
    *, name: str, fee_micros: int, period: Period, billed_from: datetime
) -> Line | None:
    """The plan fee for the period; pro rata by whole days when the plan began in it."""
    if billed_from <= period.start:
        return Line(f"{name} plan, {period}", 1, fee_micros, prepaid=False)
    days = (period.end.date() - billed_from.date()).days
    if days <= 0:
        return None
    if days >= period.days:  # began during the first day: the whole month
        return Line(f"{name} plan, {period}", 1, fee_micros, prepaid=False)
    amount = divide_half_even(fee_micros * days, period.days)
    return Line(
        f"{name} plan, {period} ({days} of {period.days} days, pro rata)",
        1,
        amount,
        prepaid=False,
    )


async def _rows(conn: BaseDBAsyncClient, sql: str, params: list) -> list[dict]:
    return await conn.execute_query_dict(dialect_sql(conn, sql), params)


async def _customers_to_invoice(
    conn: BaseDBAsyncClient, period: Period, partner_id: int | None
) -> dict[int, Draft]:
    """Customers that existed during the period and have no invoice for it yet."""
    scope = "AND c.partner_id = $3" if partner_id is not None else ""
    params: list = [db_datetime(conn, period.end), str(period)]
    if partner_id is not None:
        params.append(partner_id)
    rows = await _rows(
        conn,
        "SELECT c.id, c.partner_id, p.currency_code FROM customers c"
        " JOIN partners p ON p.id = c.partner_id"
        f" WHERE c.created_at < $1 {scope}"
        " AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.customer_id = c.id AND i.period = $2)"
        " ORDER BY c.id",
        params,
    )
    return {row["id"]: Draft(row["id"], row["partner_id"], row["currency_code"]) for row in rows}


async def _add_plan_fees(
    conn: BaseDBAsyncClient, drafts: dict[int, Draft], period: Period, partner_id: int | None
) -> None:
    """The assignment in force for the period: the latest that began before it ended."""
    scope = "AND c.partner_id = $2" if partner_id is not None else ""
    params: list = [db_datetime(conn, period.end)]
    if partner_id is not None:
        params.append(partner_id)
    rows = await _rows(
        conn,
        "SELECT a.customer_id, a.effective_from, pl.id AS plan_id, pl.name,"
        " pl.monthly_fee_micros, pl.tax_rate_percent_micros"
        " FROM plan_assignments a JOIN customers c ON c.id = a.customer_id"
        " JOIN plans pl ON pl.id = a.plan_id"
        f" WHERE a.effective_from = (SELECT MAX(b.effective_from) FROM plan_assignments b"
        f"   WHERE b.customer_id = a.customer_id AND b.effective_from < $1) {scope}",
        params,
    )
    for row in rows:
        draft = drafts.get(row["customer_id"])
        if draft is None:
            continue
        effective_from = row["effective_from"]
        if isinstance(effective_from, str):  # SQLite hands back the stored text
            effective_from = datetime.fromisoformat(effective_from)
        line = plan_fee_line(
            name=row["name"],
            fee_micros=row["monthly_fee_micros"],
            period=period,
            billed_from=effective_from,
        )
        draft.plan_id = row["plan_id"]
        draft.tax_rate_percent_micros = row["tax_rate_percent_micros"]
        if line is not None and line.unit_price_micros > 0:
            draft.lines.append(line)


async def _add_usage(
    conn: BaseDBAsyncClient, drafts: dict[int, Draft], period: Period, partner_id: int | None
) -> None:
    bounds = [db_datetime(conn, period.start), db_datetime(conn, period.end)]
    scope = "AND partner_id = $3" if partner_id is not None else ""
    params = [*bounds, partner_id] if partner_id is not None else bounds
    conversations = await _rows(
        conn,
        "SELECT customer_id, category, market, price_micros, COUNT(*) AS quantity"
        " FROM conversations WHERE created_at >= $1 AND created_at < $2 "
        + scope
        + " GROUP BY customer_id, category, market, price_micros",
        params,
    )
    # Sorted here, not by ORDER BY: text collation differs between databases,
    # and an invoice must read the same on both. "Other markets" goes last.
    conversations.sort(
        key=lambda r: (r["category"], r["market"] == ANY_MARKET, r["market"], r["price_micros"])
    )
    for row in conversations:
        draft = drafts.get(row["customer_id"])
        if draft is None:
            continue
        free = " (free)" if row["price_micros"] == 0 else ""
        market = "other markets" if row["market"] == ANY_MARKET else row["market"]
        draft.lines.append(
            Line(
                f"{_label(row['category'])} conversations, {market}{free}",
                row["quantity"],
                row["price_micros"],
                prepaid=True,
            )
        )
    scope = "AND c.partner_id = $3" if partner_id is not None else ""
    charges = await _rows(
        conn,
        "SELECT w.customer_id, e.comment, -e.amount_micros AS unit_price, COUNT(*) AS quantity"
        " FROM ledger_entries e JOIN wallets w ON w.id = e.wallet_id"
        " JOIN customers c ON c.id = w.customer_id"
        " WHERE e.kind = 'INTEGRATION_CHARGE' AND e.created_at >= $1 AND e.created_at < $2 "
        + scope
        + " GROUP BY w.customer_id, e.comment, e.amount_micros",
        params,
    )
    charges.sort(key=lambda r: (r["comment"] or "", -r["unit_price"]))
    for row in charges:
        draft = drafts.get(row["customer_id"])
        if draft is None:
            continue
        draft.lines.append(
            Line(
                f"Integration: {row['comment'] or 'charge'}"[:300],
                row["quantity"],
                row["unit_price"],
                prepaid=True,
            )
        )


_INVOICE_COLUMNS = {
    "partner_id": "bigint",
    "customer_id": "bigint",
    "period": "text",
    "period_start": "timestamptz",
    "period_end": "timestamptz",
    "status": "text",
    "plan_id": "bigint",
    "currency_code": "text",
    "tax_rate_percent_micros": "bigint",
    "subtotal_micros": "bigint",
    "tax_micros": "bigint",
    "total_micros": "bigint",
    "created_at": "timestamptz",
}
_LINE_COLUMNS = {
    "invoice_id": "bigint",
    "position": "int",
    "description": "text",
    "quantity": "bigint",
    "unit_price_micros": "bigint",
    "amount_micros": "bigint",
    "prepaid": "boolean",
}


async def _insert_rows(
    conn: BaseDBAsyncClient, table: str, columns: dict[str, str], rows: list[list], tail: str = ""
) -> list[dict]:
    """Many rows in one statement. PostgreSQL: one array per column through ``unnest``
    (one statement shape whatever the count, no parameter limit); SQLite: VALUES lists."""
    names = ", ".join(columns)
    if is_postgres(conn):
        arrays = ", ".join(f"${n}::{kind}[]" for n, kind in enumerate(columns.values(), start=1))
        sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) {tail}"
        return await conn.execute_query_dict(
            sql, [list(column) for column in zip(*rows, strict=True)]
        )
    width = len(columns)
    placeholders = ", ".join(
        "(" + ", ".join(f"?{n * width + k}" for k in range(1, width + 1)) + ")"
        for n in range(len(rows))
    )
    sql = f"INSERT INTO {table} ({names}) VALUES {placeholders} {tail}"
    return await conn.execute_query_dict(sql, [value for row in rows for value in row])


async def _insert_chunk(conn: BaseDBAsyncClient, drafts: list[Draft], period: Period) -> int:
    now = db_datetime(conn, clock.now())
    start, end = db_datetime(conn, period.start), db_datetime(conn, period.end)
    invoice_rows = [
        [
            draft.partner_id,
            draft.customer_id,
            str(period),
            start,
            end,
            InvoiceStatus.DRAFT.value,
            draft.plan_id,
            draft.currency_code,
            draft.tax_rate_percent_micros,
            draft.subtotal_micros,
            draft.tax_micros,
            draft.subtotal_micros + draft.tax_micros,
            now,
        ]
        for draft in drafts
    ]
    inserted = await _insert_rows(
        conn,
        "invoices",
        _INVOICE_COLUMNS,
        invoice_rows,
        "ON CONFLICT (customer_id, period) DO NOTHING RETURNING id, customer_id",
    )
    by_customer = {draft.customer_id: draft for draft in drafts}
    lines = [
        [
            row["id"],
            position,
            line.description,
            line.quantity,
            line.unit_price_micros,
            line.amount_micros,
            line.prepaid,
        ]
        for row in inserted
        for position, line in enumerate(by_customer[row["customer_id"]].lines, start=1)
    ]
    # SQLite takes at most 32,766 parameters a statement; unnest has no such limit.
    step = (len(lines) or 1) if is_postgres(conn) else LINE_CHUNK
    for offset in range(0, len(lines), step):
        await _insert_rows(conn, "invoice_lines", _LINE_COLUMNS, lines[offset : offset + step])
    return len(inserted)


async def generate_for_period(period: Period, *, partner_id: int | None = None) -> int:
    """Create the period's missing invoices (all partners, or one); how many were created."""
    conn = connection()
    drafts = await _customers_to_invoice(conn, period, partner_id)
    if not drafts:
        return 0
    await _add_plan_fees(conn, drafts, period, partner_id)
    await _add_usage(conn, drafts, period, partner_id)
    billable = [draft for draft in drafts.values() if draft.lines]
    created = 0
    for offset in range(0, len(billable), CHUNK):
        async with transaction() as tx:
            created += await _insert_chunk(tx, billable[offset : offset + CHUNK], period)
    return created


async def generate(principal: Principal, *, period: str) -> list[Invoice]:
    """``generateInvoices``: the period's invoices in the caller's scope, made if missing."""
    access.require_role(principal, Role.ADMIN, Role.PARTNER)
    month = Period.parse(period, now=clock.now())
    partner_id = None if principal.is_admin else principal.partner_id
    if partner_id is None:
        for pid in await _partner_ids():
            await generate_for_period(month, partner_id=pid)
    else:
        await generate_for_period(month, partner_id=partner_id)
    query = Invoice.filter(period=str(month))
    if partner_id is not None:
        query = query.filter(partner_id=partner_id)
    return await query.order_by("id")


async def _partner_ids() -> list[int]:
    rows = await connection().execute_query_dict("SELECT id FROM partners ORDER BY id")
    return [row["id"] for row in rows]


async def generate_previous_month() -> dict[str, int | str]:
    """The jobs loop: once a month is over, invoice it (once: marked in ``invoice_runs``).

    It waits GRACE after midnight on the 1st (UTC), so a charge committed in
    the last instants of the month is on the statement, then invoices the
    month before; after an outage it catches up on every month it missed (up
    to CATCH_UP_MONTHS), oldest first. Per partner, so each aggregation uses
    the ``(partner_id, created_at)`` index.
    """
    latest = Period.containing(clock.now() - GRACE).previous()
    conn = connection()
    missing: list[Period] = []
    period = latest
    for _ in range(CATCH_UP_MONTHS):
        done = await _rows(conn, "SELECT 1 FROM invoice_runs WHERE period = $1", [str(period)])
        if done:
            break
        missing.append(period)
        period = period.previous()
    created = 0
    for period in reversed(missing):
        for pid in await _partner_ids():
            created += await generate_for_period(period, partner_id=pid)
        await _rows(
            conn,
            "INSERT INTO invoice_runs (period, completed_at) VALUES ($1, $2)"
            " ON CONFLICT (period) DO NOTHING RETURNING period",
            [str(period), db_datetime(conn, clock.now())],
        )
    return {"period": str(latest), "created": created}
