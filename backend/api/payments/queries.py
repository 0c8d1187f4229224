"""Query fields of the payments area."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from backend.api.context import principal_of
from backend.api.errors import as_graphql_error
from backend.api.pagination import Connection, fetch_page, to_connection
from backend.api.payments.types import ProviderEvent, ProviderEventStatus
from backend.domain import access, models
from backend.domain.errors import DomainError


@strawberry.type
class PaymentQueries:
    @strawberry.field(
        description="ADMIN: the payment provider's stored events; DEAD ones are the dead letters."
    )
    async def payment_events(
        self,
        info: Info,
        status: ProviderEventStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[ProviderEvent]:
        """Newest first."""
        try:
            access.require_role(principal_of(info), models.Role.ADMIN)
        except DomainError as error:
            raise as_graphql_error(error) from error
        query = models.ProviderEvent.all()
        if status is not None:
            query = query.filter(status=status)
        page = await fetch_page(query, first=first, after=after, newest_first=True)
        return to_connection(page, ProviderEvent.from_instance)
