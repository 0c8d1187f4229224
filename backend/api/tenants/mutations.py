"""createPartner, createCustomer, setCustomerPlan, setPartnerMarkup, createPlan;
createApiKey, revokeApiKey."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from backend.api.context import principal_of
from backend.api.errors import payload_or_user_errors
from backend.api.inputs import id_of, micros_of, optional_id_of, percent_of
from backend.api.scalars import DecimalString
from backend.api.tenants.payloads import ApiKeyPayload, CustomerPayload, PartnerPayload, PlanPayload
from backend.api.tenants.types import Customer, Partner, Plan, Role
from backend.domain import access, api_keys, plans, tenants


@strawberry.type
class TenantMutations:
    @strawberry.mutation(description="ADMIN: a new partner and its first PARTNER key (shown once).")
    async def create_partner(
        self,
        info: Info,
        name: str,
        currency_code: str,
        day_price: DecimalString,
        trial_eligible: bool | None = None,
    ) -> PartnerPayload:
        async def build() -> PartnerPayload:
            access.require_role(principal_of(info), Role.ADMIN)
            made = await tenants.create_partner(
                principal_of(info),
                name=name,
                currency_code=currency_code,
                day_price_micros=micros_of(day_price, "dayPrice"),
                trial_eligible=bool(trial_eligible),
            )
            return PartnerPayload(
                partner=Partner.from_instance(made.partner), api_key=made.key.secret
            )

        return await payload_or_user_errors(PartnerPayload, build)

    @strawberry.mutation(description="A new customer with its wallet and first CUSTOMER key.")
    async def create_customer(
        self, info: Info, partner_id: strawberry.ID, name: str, plan_id: strawberry.ID | None = None
    ) -> CustomerPayload:
        async def build() -> CustomerPayload:
            access.require_role(principal_of(info), Role.ADMIN, Role.PARTNER)
            made = await tenants.create_customer(
                principal_of(info),
                partner_id=id_of(partner_id, "partnerId"),
                name=name,
                plan_id=optional_id_of(plan_id, "planId"),
            )
            return CustomerPayload(
                customer=Customer.from_instance(made.customer), api_key=made.key.secret
            )

        return await payload_or_user_errors(CustomerPayload, build)

    @strawberry.mutation(
        description="Put the customer on another plan (or none, planId null) from the next "
        "period on; the month under way keeps its plan."
    )
    async def set_customer_plan(
        self, info: Info, customer_id: strawberry.ID, plan_id: strawberry.ID | None
    ) -> CustomerPayload:
        async def build() -> CustomerPayload:
            access.require_role(principal_of(info), Role.ADMIN, Role.PARTNER)
            customer = await plans.set_customer_plan(
                principal_of(info),
                customer_id=id_of(customer_id, "customerId"),
                plan_id=optional_id_of(plan_id, "planId"),
            )
            return CustomerPayload(customer=Customer.from_instance(customer))

        return await payload_or_user_errors(CustomerPayload, build)

    @strawberry.mutation
    async def set_partner_markup(
        self, info: Info, partner_id: strawberry.ID, percent: DecimalString
    ) -> PartnerPayload:
        async def build() -> PartnerPayload:
            access.require_role(principal_of(info), Role.ADMIN, Role.PARTNER)
            partner = await tenants.set_markup(
                principal_of(info),
                partner_id=id_of(partner_id, "partnerId"),
                percent_micros=percent_of(percent, "percent", tenants.MAX_MARKUP_PERCENT),
            )
            return PartnerPayload(partner=Partner.from_instance(partner))

        return await payload_or_user_errors(PartnerPayload, build)

    @strawberry.mutation(description="ADMIN: a platform plan; PARTNER: a plan of its own.")
    async def create_plan(
        self,
        info: Info,
        name: str,
        monthly_fee: DecimalString,
        currency_code: str,
        tax_rate_percent: DecimalString,
    ) -> PlanPayload:
        async def build() -> PlanPayload:
            access.require_role(principal_of(info), Role.ADMIN, Role.PARTNER)
            plan = await plans.create_plan(
                principal_of(info),
                name=name,
                monthly_fee_micros=micros_of(monthly_fee, "monthlyFee"),
                currency_code=currency_code,
                tax_rate_percent_micros=percent_of(
                    tax_rate_percent, "taxRatePercent", plans.MAX_TAX_PERCENT
                ),
            )
            return PlanPayload(plan=Plan.from_instance(plan))

        return await payload_or_user_errors(PlanPayload, build)


@strawberry.type
class ApiKeyMutations:
    @strawberry.mutation(description="A new key, returned once; only its hash is stored.")
    async def create_api_key(
        self,
        info: Info,
        role: Role,
        partner_id: strawberry.ID | None = None,
        customer_id: strawberry.ID | None = None,
    ) -> ApiKeyPayload:
        async def build() -> ApiKeyPayload:
            issued = await api_keys.create_for(
                principal_of(info),
                role,
                partner_id=optional_id_of(partner_id, "partnerId"),
                customer_id=optional_id_of(customer_id, "customerId"),
            )
            return ApiKeyPayload(
                api_key=issued.secret, key_prefix=issued.record.prefix, role=issued.record.role
            )

        return await payload_or_user_errors(ApiKeyPayload, build)

    @strawberry.mutation
    async def revoke_api_key(self, info: Info, key_prefix: str) -> ApiKeyPayload:
        async def build() -> ApiKeyPayload:
            record = await api_keys.revoke(principal_of(info), key_prefix)
            return ApiKeyPayload(key_prefix=record.prefix, role=record.role)

        return await payload_or_user_errors(ApiKeyPayload, build)
