"""The schema: wiring only. Security and caching are extensions."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.scalars import JSON

from backend.api.mutations.api_keys import ApiKeyMutations
from backend.api.mutations.days import DayMutations
from backend.api.mutations.tenants import TenantMutations
from backend.api.mutations.wallets import WalletMutations
from backend.api.queries import Query
from backend.domain.errors import DomainError
from backend.settings import Settings, get_settings


@strawberry.type
class Mutation(TenantMutations, ApiKeyMutations, WalletMutations, DayMutations):
    pass


def _is_unexpected(error: GraphQLError) -> bool:
    """Mask internal failures (stack traces, SQL) but never a rule's own message."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError | DomainError)


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or get_settings()
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[JSON] if False else [],
        extensions=[
            QueryDepthLimiter(max_depth=settings.max_query_depth),
            MaxAliasesLimiter(max_alias_count=settings.max_aliases),
            MaxTokensLimiter(max_token_count=settings.max_tokens),
            ParserCache(maxsize=1024),
            ValidationCache(maxsize=1024),
            MaskErrors(should_mask_error=_is_unexpected, error_message="Internal server error."),
        ],
    )


schema = build_schema()
