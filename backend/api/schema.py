"""The schema: wiring only. Security and caching are extensions."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from backend.api.mutations.api_keys import ApiKeyMutations
from backend.api.mutations.channels import ChannelMutations
from backend.api.mutations.charging import ChargingMutations
from backend.api.mutations.days import DayMutations
from backend.api.mutations.invoices import InvoiceMutations
from backend.api.mutations.tenants import TenantMutations
from backend.api.mutations.wallets import WalletMutations
from backend.api.queries import Query
from backend.api.scalars import SCALARS
from backend.api.subscriptions import Subscription
from backend.domain.errors import DomainError
from backend.settings import Settings, get_settings


@strawberry.type
class Mutation(
    TenantMutations,
    ApiKeyMutations,
    WalletMutations,
    DayMutations,
    ChannelMutations,
    ChargingMutations,
    InvoiceMutations,
):
    pass


def _is_unexpected(error: GraphQLError) -> bool:
    """Mask internal failures (stack traces, SQL) but never a rule's own message."""
    if error.path is None:
        # Parse and validation errors concern the request itself; the caller needs them.
        return False
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError | DomainError)


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or get_settings()
    # The depth and alias rules are built once and reused by every request:
    # ValidationCache keys on the rule classes, and a limiter made per request
    # would mint new classes each time and never hit the cache.
    limit_rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALARS),
        extensions=[
            lambda: AddValidationRules(limit_rules),
            lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
            # Both caches live at module level, shared by every request: parsing
            # and validating a document costs ~1 ms, a cache hit ~50 µs.
            lambda: ParserCache(maxsize=1024),
            lambda: ValidationCache(maxsize=1024),
            lambda: MaskErrors(
                should_mask_error=_is_unexpected, error_message="Internal server error."
            ),
        ],
    )
