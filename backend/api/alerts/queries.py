"""Query fields of the alerts area."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from backend.api.alerts.types import Alert
from backend.api.context import principal_of
from backend.api.errors import as_graphql_error
from backend.api.inputs import optional_id_of
from backend.api.pagination import decode_cursor, page_size
from backend.domain import alerts
from backend.domain.errors import DomainError


@strawberry.type
class AlertQueries:
    @strawberry.field(description="Alerts the caller may see, newest first.")
    async def alerts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        unresolved_only: bool = False,
        partner_id: strawberry.ID | None = None,
    ) -> list[Alert]:
        """``partnerId`` narrows an ADMIN's view to one partner (another's is NOT_FOUND).

        A paged list rather than a connection: the contract fixes this shape.
        """
        try:
            query = await alerts.visible_to_in(
                principal_of(info), optional_id_of(partner_id, "partnerId")
            )
        except DomainError as error:
            raise as_graphql_error(error) from error
        if unresolved_only:
            query = query.filter(resolved_at=None)
        if after:
            query = query.filter(id__lt=decode_cursor(after))
        rows = await query.order_by("-id").limit(page_size(first))
        return [Alert.from_instance(row) for row in rows]
