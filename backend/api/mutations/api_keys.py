"""createApiKey, revokeApiKey."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from backend.api.context import principal_of
from backend.api.errors import payload_or_user_errors
from backend.api.payloads import ApiKeyPayload
from backend.api.types import Role
from backend.domain import api_keys


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
                principal_of(info), role, partner_id=partner_id, customer_id=customer_id
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
