"""generateInvoices, finalizeInvoice, payInvoiceFromWallet, markInvoicePaid, voidInvoice."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from backend.api.context import principal_of
from backend.api.errors import payload_or_user_errors
from backend.api.inputs import id_of
from backend.api.invoices.payloads import InvoicePayload, InvoicesPayload
from backend.api.invoices.types import Invoice
from backend.domain import invoices, invoicing


@strawberry.type
class InvoiceMutations:
    @strawberry.mutation(
        description="ADMIN or PARTNER: the month's invoices (YYYY-MM, ended) for every "
        "customer in scope, created as DRAFTs where missing; idempotent per customer and period."
    )
    async def generate_invoices(self, info: Info, period: str) -> InvoicesPayload:
        async def build() -> InvoicesPayload:
            made = await invoicing.generate(principal_of(info), period=period)
            return InvoicesPayload(invoices=[Invoice.from_instance(row) for row in made])

        return await payload_or_user_errors(InvoicesPayload, build)

    @strawberry.mutation(description="DRAFT -> OPEN: numbered, issued now, due in 15 days.")
    async def finalize_invoice(self, info: Info, invoice_id: strawberry.ID) -> InvoicePayload:
        async def build() -> InvoicePayload:
            invoice = await invoices.finalize(
                principal_of(info), invoice_id=id_of(invoice_id, "invoiceId")
            )
            return InvoicePayload(invoice=Invoice.from_instance(invoice))

        return await payload_or_user_errors(InvoicePayload, build)

    @strawberry.mutation(
        description="OPEN -> PAID with an INVOICE_PAYMENT debit of the total against the "
        "wallet's available funds; lifts an overdue suspension."
    )
    async def pay_invoice_from_wallet(
        self, info: Info, invoice_id: strawberry.ID, idempotency_key: str | None = None
    ) -> InvoicePayload:
        async def build() -> InvoicePayload:
            paid = await invoices.pay_from_wallet(
                principal_of(info),
                invoice_id=id_of(invoice_id, "invoiceId"),
                idempotency_key=idempotency_key,
            )
            return InvoicePayload(
                invoice=Invoice.from_instance(paid.invoice), replayed=paid.replayed
            )

        return await payload_or_user_errors(InvoicePayload, build)

    @strawberry.mutation(description="OPEN -> PAID, settled outside Daybook; no money moves.")
    async def mark_invoice_paid(
        self, info: Info, invoice_id: strawberry.ID, comment: str
    ) -> InvoicePayload:
        async def build() -> InvoicePayload:
            invoice = await invoices.mark_paid(
                principal_of(info), invoice_id=id_of(invoice_id, "invoiceId"), comment=comment
            )
            return InvoicePayload(invoice=Invoice.from_instance(invoice))

        return await payload_or_user_errors(InvoicePayload, build)

    @strawberry.mutation(description="DRAFT or OPEN -> VOID; a PAID invoice cannot be voided.")
    async def void_invoice(
        self, info: Info, invoice_id: strawberry.ID, comment: str
    ) -> InvoicePayload:
        async def build() -> InvoicePayload:
            invoice = await invoices.void(
                principal_of(info), invoice_id=id_of(invoice_id, "invoiceId"), comment=comment
            )
            return InvoicePayload(invoice=Invoice.from_instance(invoice))

        return await payload_or_user_errors(InvoicePayload, build)
