"""purchaseDays, setLowDaysThreshold."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from backend.api.context import principal_of
from backend.api.days.payloads import DaysPayload
from backend.api.days.types import DayEntry
from backend.api.errors import payload_or_user_errors
from backend.api.inputs import id_of
from backend.api.tenants.types import Partner
from backend.domain import access, partner_days
from backend.domain.models import Role


@strawberry.type
class DayMutations:
    @strawberry.mutation(description="ADMIN records channel-days the partner has paid for.")
    async def purchase_days(
        self,
        info: Info,
        partner_id: strawberry.ID,
        days: int,
        comment: str,
        idempotency_key: str | None = None,
    ) -> DaysPayload:
        async def build() -> DaysPayload:
            access.require_role(principal_of(info), Role.ADMIN)
            moved = await partner_days.purchase_days(
                principal_of(info),
                partner_id=id_of(partner_id, "partnerId"),
                days=days,
                comment=comment,
                idempotency_key=idempotency_key,
            )
            return DaysPayload(
                partner=Partner.from_instance(moved.partner),
                entry=DayEntry.from_instance(moved.entry),
                replayed=moved.replayed,
            )

        return await payload_or_user_errors(DaysPayload, build)

    @strawberry.mutation
    async def set_low_days_threshold(
        self, info: Info, partner_id: strawberry.ID, days: int | None = None
    ) -> DaysPayload:
        async def build() -> DaysPayload:
            access.require_role(principal_of(info), Role.ADMIN, Role.PARTNER)
            partner = await partner_days.set_low_days_threshold(
                principal_of(info), partner_id=id_of(partner_id, "partnerId"), days=days
            )
            return DaysPayload(partner=Partner.from_instance(partner))

        return await payload_or_user_errors(DaysPayload, build)
