"""An invoice's life: DRAFT -> finalise -> OPEN -> PAID (wallet or marked), or VOID.

Every change of status is one conditional UPDATE (``WHERE status = ...``), so
two callers racing over one invoice cannot both move it: the loser's UPDATE
matches nothing and it is told the state it found.

Numbers are gapless per partner. Finalising bumps the partner's row in
``invoice_counters`` (an upsert that locks it) in the same transaction that
numbers the invoice: concurrent finalisations queue on that row, and a
rolled-back one gives its number back, so numbers are never skipped nor
repeated (``UNIQUE(partner_id, sequence)`` as the last word).

Overdue: an OPEN invoice past its due date raises INVOICE_OVERDUE and
suspends its customer (``authorizeBroadcast`` then refuses). Paying, marking
paid or voiding it resolves the alert and lifts the suspension at once,
unless another overdue invoice still holds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet

from backend.db import db_datetime, dialect_sql, model_from_row
from backend.domain import access, alerts, idempotency, ledger, validation
from backend.domain.access import Principal
from backend.domain.clock import clock
from backend.domain.errors import (
    InvoiceAlreadyPaid,
    InvoiceNotDraft,
    InvoiceNotOpen,
    NotFound,
)
from backend.domain.ledger import FundsPolicy
from backend.domain.locking import lock_customer
from backend.domain.models import AlertKind, Invoice, InvoiceStatus, LedgerEntryKind, Role
from backend.domain.money import format_micros
from backend.domain.unit_of_work import transaction

PAYMENT_TERMS = timedelta(days=15)


def invoice_number(partner_id: int, issued_at: datetime, sequence: int) -> str:
    """``P1-2026-000042``: the partner, the year of issue, the partner's sequence."""
    return f"P{partner_id}-{issued_at.year}-{sequence:06d}"


def display_number(invoice: Invoice) -> str:
    """The number people see: the issued one, or ``DRAFT-<id>`` before finalisation."""
    return invoice.number or f"DRAFT-{invoice.id}"


def overdue_key(invoice_id: int) -> str:
    return f"INVOICE_OVERDUE:{invoice_id}"


def visible_to(principal: Principal) -> QuerySet:
    """ADMIN: all. PARTNER: its customers'. CUSTOMER: its own issued ones (drafts are the partner's)."""
    if principal.role == Role.ADMIN:
        return Invoice.all()
    if principal.role == Role.PARTNER:
        return Invoice.filter(partner_id=principal.partner_id)
    # Issued ones only: a draft, and a draft voided before issue, are the partner's business.
    return Invoice.filter(customer_id=principal.customer_id, issued_at__isnull=False)


async def get_invoice(principal: Principal, invoice_id: int) -> Invoice:
    """An invoice the caller may see; anything else is NOT_FOUND, foreign or missing alike."""
    invoice = await visible_to(principal).get_or_none(id=invoice_id)
    if invoice is None:
        raise NotFound("No such invoice.", field="invoice_id")
    return invoice


async def _get_to_manage(principal: Principal, invoice_id: int) -> Invoice:
    invoice = await get_invoice(principal, invoice_id)
    access.require_role(principal, Role.ADMIN, Role.PARTNER)
    return invoice


async def _move(
    conn: BaseDBAsyncClient,
    invoice_id: int,
    *,
    allowed: tuple[InvoiceStatus, ...],
    changes: dict[str, Any],
    condition: str = "",
) -> Invoice | None:
    """The one conditional UPDATE behind every status change; None if the state moved on."""
    names = list(changes)
    assignments = ", ".join(f"{name} = ${n}" for n, name in enumerate(names, start=1))
    states = ", ".join(f"'{state.value}'" for state in allowed)
    values = [
        db_datetime(conn, value) if isinstance(value, datetime) else value
        for value in changes.values()
    ]
    rows = await conn.execute_query_dict(
        dialect_sql(
            conn,
            f"UPDATE invoices SET {assignments} WHERE id = ${len(names) + 1}"
            f" AND status IN ({states}) {condition} RETURNING *",
        ),
        [*values, invoice_id],
    )
    return model_from_row(Invoice, rows[0]) if rows else None


async def _next_sequence(conn: BaseDBAsyncClient, partner_id: int) -> int:
    rows = await conn.execute_query_dict(
        dialect_sql(
            conn,
            "INSERT INTO invoice_counters (partner_id, last_sequence) VALUES ($1, 1)"
            " ON CONFLICT (partner_id) DO UPDATE"
            " SET last_sequence = invoice_counters.last_sequence + 1 RETURNING last_sequence",
        ),
        [partner_id],
    )
    return rows[0]["last_sequence"]


async def finalize(principal: Principal, *, invoice_id: int) -> Invoice:
    """Issue a DRAFT: numbered, dated, due in 15 days. Nothing due: PAID on issue."""
    invoice = await _get_to_manage(principal, invoice_id)
    now = clock.now()
    sequence_fields: dict[str, Any] = {"issued_at": now, "due_at": now + PAYMENT_TERMS}
    if invoice.total_micros == 0:
        sequence_fields.update(status=InvoiceStatus.PAID.value, paid_at=now)
    else:
        sequence_fields.update(status=InvoiceStatus.OPEN.value)
    async with transaction() as conn:
        # The number first, then the conditional UPDATE: if the draft was
        # finalised meanwhile, raising rolls the counter back with everything else.
        sequence = await _next_sequence(conn, invoice.partner_id)
        numbered = await _move(
            conn,
            invoice.id,
            allowed=(InvoiceStatus.DRAFT,),
            changes={
                **sequence_fields,
                "sequence": sequence,
                "number": invoice_number(invoice.partner_id, now, sequence),
            },
        )
        if numbered is None:
            current = await Invoice.get(id=invoice.id).using_db(conn)
            raise InvoiceNotDraft(
                f"The invoice is {current.status.value}; only a DRAFT can be finalised.",
                field="invoice_id",
            )
    return numbered


async def _settled(conn: BaseDBAsyncClient, invoice: Invoice) -> None:
    """The invoice no longer stands against its customer: clear the overdue state."""
    await alerts.resolve_open(conn, overdue_key(invoice.id))
    await lock_customer(conn, invoice.customer_id)
    await conn.execute_query(
        dialect_sql(
            conn,
            "UPDATE customers SET suspended = FALSE WHERE id = $1 AND suspended"
            " AND NOT EXISTS (SELECT 1 FROM invoices WHERE customer_id = $1"
            " AND status = 'OPEN' AND overdue_at IS NOT NULL)",
        ),
        [invoice.customer_id],
    )


async def _explain_not_open(conn: BaseDBAsyncClient, invoice_id: int, action: str) -> NoReturn:
    current = await Invoice.get(id=invoice_id).using_db(conn)
    reason = {
        InvoiceStatus.DRAFT: "it is a DRAFT, not issued yet; finalise it first",
        InvoiceStatus.PAID: "it is already PAID",
        InvoiceStatus.VOID: "it is VOID",
    }.get(current.status, f"it is {current.status.value}")
    raise InvoiceNotOpen(f"The invoice cannot be {action}: {reason}.", field="invoice_id")


@dataclass(frozen=True)
class Payment:
    invoice: Invoice
    replayed: bool


async def pay_from_wallet(
    principal: Principal, *, invoice_id: int, idempotency_key: str | None = None
) -> Payment:
    """Debit the customer's wallet for the total (against ``available``) and mark it PAID."""
    invoice = await get_invoice(principal, invoice_id)

    async def action(conn: BaseDBAsyncClient) -> dict[str, Any]:
        now = clock.now()
        paid = await _move(
            conn,
            invoice.id,
            allowed=(InvoiceStatus.OPEN,),
            changes={"status": InvoiceStatus.PAID.value, "paid_at": now},
        )
        if paid is None:
            await _explain_not_open(conn, invoice.id, "paid")
        wallet = await conn.execute_query_dict(
            dialect_sql(conn, "SELECT id FROM wallets WHERE customer_id = $1"),
            [invoice.customer_id],
        )
        movement = await ledger.post(
            conn,
            wallet_id=wallet[0]["id"],
            amount_micros=-paid.total_micros,
            kind=LedgerEntryKind.INVOICE_PAYMENT,
            policy=FundsPolicy.REQUIRE_AVAILABLE,
            comment=f"Invoice {paid.number} ({paid.period})",
            reference=paid.number,
        )
        await conn.execute_query(
            dialect_sql(conn, "UPDATE invoices SET payment_entry_id = $1 WHERE id = $2"),
            [movement.entry.id, invoice.id],
        )
        await _settled(conn, paid)
        return {"invoice_id": invoice.id}

    _, replayed = await idempotency.run_once(
        scope=principal.idempotency_scope,
        key=idempotency_key,
        operation="payInvoiceFromWallet",
        request={"invoice": invoice.id},
        action=action,
    )
    return Payment(invoice=await Invoice.get(id=invoice.id), replayed=replayed)


async def mark_paid(principal: Principal, *, invoice_id: int, comment: str) -> Invoice:
    """Paid outside Daybook (a bank transfer): recorded with who-knows-why, no money moves."""
    invoice = await _get_to_manage(principal, invoice_id)
    reason = validation.comment(comment, required=True)
    async with transaction() as conn:
        paid = await _move(
            conn,
            invoice.id,
            allowed=(InvoiceStatus.OPEN,),
            changes={
                "status": InvoiceStatus.PAID.value,
                "paid_at": clock.now(),
                "status_comment": reason,
            },
        )
        if paid is None:
            await _explain_not_open(conn, invoice.id, "marked paid")
        await _settled(conn, paid)
    return paid


async def void(principal: Principal, *, invoice_id: int, comment: str) -> Invoice:
    """Cancel a DRAFT or OPEN invoice; a PAID one stays (its money has moved)."""
    invoice = await _get_to_manage(principal, invoice_id)
    reason = validation.comment(comment, required=True)
    async with transaction() as conn:
        voided = await _move(
            conn,
            invoice.id,
            allowed=(InvoiceStatus.DRAFT, InvoiceStatus.OPEN),
            changes={
                "status": InvoiceStatus.VOID.value,
                "voided_at": clock.now(),
                "status_comment": reason,
            },
        )
        if voided is None:
            current = await Invoice.get(id=invoice.id).using_db(conn)
            if current.status == InvoiceStatus.PAID:
                raise InvoiceAlreadyPaid(
                    "A PAID invoice cannot be voided: its money has moved.", field="invoice_id"
                )
            raise InvoiceNotOpen("The invoice is already VOID.", field="invoice_id")
        await _settled(conn, voided)
    return voided


async def mark_overdue() -> int:
    """The jobs loop: OPEN invoices past due suspend their customer and raise INVOICE_OVERDUE."""
    now = clock.now()
    due = await Invoice.filter(
        status=InvoiceStatus.OPEN, due_at__lte=now, overdue_at__isnull=True
    ).order_by("id")
    flagged = 0
    for candidate in due:
        async with transaction() as conn:
            invoice = await _move(
                conn,
                candidate.id,
                allowed=(InvoiceStatus.OPEN,),
                changes={"overdue_at": now},
                condition="AND overdue_at IS NULL",
            )
            if invoice is None:
                continue  # paid or voided meanwhile
            await lock_customer(conn, invoice.customer_id)
            await conn.execute_query(
                dialect_sql(conn, "UPDATE customers SET suspended = TRUE WHERE id = $1"),
                [invoice.customer_id],
            )
            await alerts.raise_alert(
                conn,
                kind=AlertKind.INVOICE_OVERDUE,
                message=(
                    f"Invoice {invoice.number} for {format_micros(invoice.total_micros)} "
                    f"{invoice.currency_code} was due on {invoice.due_at:%Y-%m-%d}; "
                    "broadcasts are suspended until it is paid."
                ),
                dedupe_key=overdue_key(invoice.id),
                partner_id=invoice.partner_id,
                customer_id=invoice.customer_id,
            )
            flagged += 1
    return flagged
