"""Payloads of the tenant mutations: the result, or userErrors and nothing else."""

from __future__ import annotations

import strawberry

from backend.api.errors import UserError
from backend.api.tenants.types import Customer, Partner, Plan, Role


@strawberry.type
class PartnerPayload:
    partner: Partner | None = None
    api_key: str | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CustomerPayload:
    customer: Customer | None = None
    api_key: str | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PlanPayload:
    plan: Plan | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ApiKeyPayload:
    api_key: str | None = None
    key_prefix: str | None = None
    role: Role | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
