"""Documents over plain HTTP (CSV exports, invoice PDFs), behind the same bearer
key and tenant rules as GraphQL: another tenant's id is a 404, like a missing one."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from tortoise.queryset import QuerySet

from backend import invoice_pdf as invoice_pdf_module
from backend.api.inputs import filter_id_of
from backend.domain import access, invoices, partner_days, wallets
from backend.domain.errors import DomainError, InvalidArgument
from backend.domain.models import (
    Customer,
    DayEntryKind,
    InvoiceLine,
    LedgerEntryKind,
    Partner,
)
from backend.domain.money import format_micros
from backend.invoice_pdf import InvoiceDocument

CHUNK = 1000
DAY_ENTRY_COLUMNS = [
    "id",
    "created_at",
    "kind",
    "days",
    "day_balance_after",
    "channel_id",
    "comment",
]
LEDGER_ENTRY_COLUMNS = [
    "id",
    "created_at",
    "kind",
    "amount",
    "balance_after",
    "currency",
    "reference",
    "comment",
]


def _error(error: DomainError) -> JSONResponse:
    status = {"NOT_FOUND": 404, "FORBIDDEN": 403}.get(error.code, 400)
    return JSONResponse({"errors": [{"message": error.message, "code": error.code}]}, status)


def _datetime(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise InvalidArgument(f"{field} must be an ISO 8601 date-time.", field=field) from error
    if parsed.tzinfo is None:
        raise InvalidArgument(
            f"{field} needs a UTC offset, e.g. 2026-03-01T00:00:00Z.", field=field
        )
    return access.to_utc(parsed)


async def day_entries_csv(request: Request) -> Response:
    """``GET /partners/{id}/day-entries.csv?channelId=&kind=&since=&until=``, newest first."""
    principal = request.scope["daybook.principal"]
    params = request.query_params
    try:
        partner_id = access.parse_id(request.path_params["partner_id"], field="partnerId")
        kind = params.get("kind")
        if kind is not None and kind not in DayEntryKind.__members__:
            raise InvalidArgument(f"kind must be one of {', '.join(DayEntryKind)}.", field="kind")
        query = partner_days.history_query(
            principal,
            partner_id,
            channel_id=filter_id_of(params.get("channelId")),
            kind=DayEntryKind(kind) if kind else None,
            since=_datetime(params.get("since"), "since"),
            until=_datetime(params.get("until"), "until"),
        )
    except DomainError as error:
        return _error(error)

    return _csv_response(
        query,
        DAY_ENTRY_COLUMNS,
        lambda entry: [
            entry.id,
            entry.created_at.isoformat(),
            entry.kind,
            entry.days,
            entry.day_balance_after,
            entry.channel_id or "",
            _safe_text(entry.comment),
        ],
        filename=f"partner-{partner_id}-day-entries.csv",
    )


async def wallet_entries_csv(request: Request) -> Response:
    """``GET /wallets/{id}/entries.csv?kind=&since=&until=``: ``Wallet.entries`` as CSV."""
    principal = request.scope["daybook.principal"]
    params = request.query_params
    try:
        wallet_id = access.parse_id(request.path_params["wallet_id"], field="walletId")
        wallet = await access.get_wallet(principal, wallet_id)
        kind = params.get("kind")
        if kind is not None and kind not in LedgerEntryKind.__members__:
            raise InvalidArgument(
                f"kind must be one of {', '.join(LedgerEntryKind)}.", field="kind"
            )
        query = wallets.entries_query(
            wallet,
            kind=LedgerEntryKind(kind) if kind else None,
            since=_datetime(params.get("since"), "since"),
            until=_datetime(params.get("until"), "until"),
        )
    except DomainError as error:
        return _error(error)
    return _csv_response(
        query,
        LEDGER_ENTRY_COLUMNS,
        lambda entry: [
            entry.id,
            entry.created_at.isoformat(),
            entry.kind,
            format_micros(entry.amount_micros),
            format_micros(entry.balance_after_micros),
            wallet.currency_code,
            _safe_text(entry.reference),
            _safe_text(entry.comment),
        ],
        filename=f"wallet-{wallet.id}-entries.csv",
    )


def _safe_text(value: str | None) -> str:
    """Free text a spreadsheet would run as a formula is prefixed with ``'``.

    Formulas start with = + - @ (also after leading blanks), or with a tab or
    carriage return that some spreadsheets strip first.
    """
    if not value:
        return ""
    if value[:1] in ("\t", "\r") or value.lstrip(" \t\r\n")[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _csv_response(
    query: QuerySet, columns: list[str], to_row: Callable[[Any], list], *, filename: str
) -> StreamingResponse:
    """Stream a queryset newest first as CSV, read in keyset pages of CHUNK rows."""

    async def rows() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        last_id: int | None = None
        while True:
            page = query.order_by("-id").limit(CHUNK)
            if last_id is not None:
                page = page.filter(id__lt=last_id)
            found = await page
            for item in found:
                writer.writerow(to_row(item))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if len(found) < CHUNK:
                return
            last_id = found[-1].id

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def invoice_pdf(request: Request) -> Response:
    """``GET /invoices/{id}.pdf``: the invoice the key may see, rendered; anything else 404."""
    principal = request.scope["daybook.principal"]
    try:
        invoice_id = access.parse_id(request.path_params["invoice_id"], field="invoiceId")
        invoice = await invoices.get_invoice(principal, invoice_id)
    except DomainError as error:
        return _error(error)
    lines = await InvoiceLine.filter(invoice_id=invoice.id).order_by("position")
    customer = await Customer.get(id=invoice.customer_id)
    partner = await Partner.get(id=invoice.partner_id)
    document = InvoiceDocument(
        invoice=invoice, lines=lines, partner_name=partner.name, customer_name=customer.name
    )
    # Rendering is CPU work (~10 ms): off the event loop, so other requests go on.
    body = await asyncio.to_thread(invoice_pdf_module.render, document)
    filename = f"invoice-{invoices.display_number(invoice)}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
