"""Query fields of the tenants area: who is calling, partners, customers, plans."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from backend.api.context import principal_of
from backend.api.errors import as_graphql_error
from backend.api.inputs import id_of
from backend.api.pagination import decode_cursor, page_size
from backend.api.tenants.types import Customer, Partner, Plan, Viewer
from backend.domain import access, plans
from backend.domain.errors import DomainError
from backend.domain.models import Partner as PartnerModel
from backend.domain.models import Role


@strawberry.type
class TenantQueries:
    @strawberry.field
    def viewer(self, info: Info) -> Viewer:
        principal = principal_of(info)
        return Viewer(
            role=principal.role,
            _partner_id=principal.partner_id,
            _customer_id=principal.customer_id,
        )

    @strawberry.field
    async def partner(self, info: Info, id: strawberry.ID) -> Partner | None:
        try:
            return Partner.from_instance(
                await access.get_partner(principal_of(info), id_of(id, "id"), "id")
            )
        except DomainError as error:
            raise as_graphql_error(error) from error

    @strawberry.field(description="Every partner, oldest first (ADMIN only).")
    async def partners(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> list[Partner]:
        # A paged list rather than a connection: the contract fixes this shape.
        try:
            access.require_role(principal_of(info), Role.ADMIN)
        except DomainError as error:
            raise as_graphql_error(error) from error
        query = PartnerModel.all()
        if after:
            query = query.filter(id__gt=decode_cursor(after))
        rows = await query.order_by("id").limit(page_size(first))
        return [Partner.from_instance(row) for row in rows]

    @strawberry.field
    async def customer(self, info: Info, id: strawberry.ID) -> Customer | None:
        try:
            return Customer.from_instance(
                await access.get_customer(principal_of(info), id_of(id, "id"), "id")
            )
        except DomainError as error:
            raise as_graphql_error(error) from error

    @strawberry.field
    async def plans(self, info: Info) -> list[Plan]:
        return [Plan.from_instance(plan) for plan in await plans.visible_plans(principal_of(info))]
