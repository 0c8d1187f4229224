"""Invoices: a customer's month, its lines and its PDF."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend.api.context import loaders_of, public_link
from backend.api.core.types import Money, upward
from backend.api.pagination import Connection, fetch_page, to_connection
from backend.domain import invoices, models

InvoiceStatus = strawberry.enum(models.InvoiceStatus)

# An invoice's customer is one area up (tenants imports this module).
CUSTOMER_MODULE = "backend.api.tenants.types"
# Named, not imported: ruff cannot see a lazily resolved name.
CustomerRef = Annotated["Customer", strawberry.lazy(CUSTOMER_MODULE)]  # noqa: F821


async def invoice_connection(
    query, first: int | None, after: str | None, status: models.InvoiceStatus | None
) -> Connection[Invoice]:
    """A page of invoices, newest first, optionally of one status."""
    if status is not None:
        query = query.filter(status=status)
    page = await fetch_page(query, first=first, after=after, newest_first=True)
    return to_connection(page, Invoice.from_instance)


@strawberry.type
class InvoiceLine:
    description: str
    quantity: int
    unit_price: Money
    amount: Money
    prepaid: bool = strawberry.field(
        description="Already settled from the wallet: shown as a statement, not in the total."
    )

    @classmethod
    def from_instance(cls, line: models.InvoiceLine, currency_code: str) -> InvoiceLine:
        return cls(
            description=line.description,
            quantity=line.quantity,
            unit_price=Money.of(line.unit_price_micros, currency_code),
            amount=Money.of(line.amount_micros, currency_code),
            prepaid=line.prepaid,
        )


def pdf_path(invoice_id: int) -> str:
    return f"/invoices/{invoice_id}.pdf"


@strawberry.type
class Invoice:
    id: strawberry.ID
    number: str = strawberry.field(
        description='Sequential per partner with no gaps, e.g. "P1-2026-000042"; a DRAFT '
        'has none yet and reads "DRAFT-<id>".'
    )
    period: str
    status: InvoiceStatus
    subtotal: Money
    tax: Money
    total: Money
    issued_at: datetime | None
    due_at: datetime | None
    paid_at: datetime | None
    _model: strawberry.Private[models.Invoice]

    @classmethod
    def from_instance(cls, invoice: models.Invoice) -> Invoice:
        currency = invoice.currency_code
        return cls(
            id=strawberry.ID(str(invoice.id)),
            number=invoices.display_number(invoice),
            period=invoice.period,
            status=models.InvoiceStatus(invoice.status),
            subtotal=Money.of(invoice.subtotal_micros, currency),
            tax=Money.of(invoice.tax_micros, currency),
            total=Money.of(invoice.total_micros, currency),
            issued_at=invoice.issued_at,
            due_at=invoice.due_at,
            paid_at=invoice.paid_at,
            _model=invoice,
        )

    @strawberry.field
    async def customer(self, info: Info) -> CustomerRef:
        row = await loaders_of(info).customer.load(self._model.customer_id)
        return upward("Customer", CUSTOMER_MODULE).from_instance(row)

    @strawberry.field
    async def lines(self, info: Info) -> list[InvoiceLine]:
        rows = await loaders_of(info).invoice_lines.load(self._model.id)
        return [InvoiceLine.from_instance(row, self._model.currency_code) for row in rows]

    @strawberry.field(
        description="GET it with the same bearer key; relative unless a public URL is configured."
    )
    def pdf_url(self, info: Info) -> str | None:
        # Never from the request's Host header: whoever sends the request chooses it.
        return public_link(info.context.public_url, pdf_path(self._model.id))
