"""Query fields of the invoices area."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from backend.api.context import principal_of
from backend.api.errors import as_graphql_error
from backend.api.inputs import id_of
from backend.api.invoices.types import Invoice
from backend.domain import invoices
from backend.domain.errors import DomainError


@strawberry.type
class InvoiceQueries:
    @strawberry.field
    async def invoice(self, info: Info, id: strawberry.ID) -> Invoice | None:
        try:
            return Invoice.from_instance(
                await invoices.get_invoice(principal_of(info), id_of(id, "id"))
            )
        except DomainError as error:
            raise as_graphql_error(error) from error
