"""The schema: wiring only. Security and caching are extensions."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from backend.api.alerts.mutations import AlertMutations
from backend.api.alerts.queries import AlertQueries
from backend.api.channels.mutations import ChannelMutations
from backend.api.channels.queries import ChannelQueries
from backend.api.charging.mutations import ChargingMutations
from backend.api.charging.queries import ChargingQueries
from backend.api.days.mutations import DayMutations
from backend.api.hygiene import (
    DaybookSchema,
    HideSuggestions,
    SmallDocumentParserCache,
    SmallDocumentValidationCache,
)
from backend.api.invoices.mutations import InvoiceMutations
from backend.api.invoices.queries import InvoiceQueries
from backend.api.limits import Limits, OperationLimits
from backend.api.payments.mutations import PaymentMutations
from backend.api.payments.queries import PaymentQueries
from backend.api.scalars import SCALARS
from backend.api.subscriptions import Subscription
from backend.api.tenants.mutations import ApiKeyMutations, TenantMutations
from backend.api.tenants.queries import TenantQueries
from backend.api.wallets.mutations import WalletMutations
from backend.api.wallets.queries import WalletQueries
from backend.domain.errors import DomainError
from backend.settings import Settings, get_settings

# Each area contributes its own fields; the roots are their union.
Query = merge_types(
    "Query",
    (
        TenantQueries,
        WalletQueries,
        ChannelQueries,
        InvoiceQueries,
        AlertQueries,
        ChargingQueries,
        PaymentQueries,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        TenantMutations,
        AlertMutations,
        ApiKeyMutations,
        WalletMutations,
        DayMutations,
        ChannelMutations,
        ChargingMutations,
        InvoiceMutations,
        PaymentMutations,
    ),
)


def _is_unexpected(error: GraphQLError) -> bool:
    """Mask internal failures (stack traces, SQL) but never a rule's own message."""
    if error.path is None:
        # Parse and validation errors concern the request itself; the caller needs them.
        return False
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError | DomainError)


def operation_limits(settings: Settings) -> Limits:
    return Limits(
        max_cost=settings.max_query_cost,
        max_subscription_cost=settings.max_subscription_cost,
        max_list_items=settings.max_list_items,
        list_maxima={("authorizeBroadcast", "recipients"): settings.max_broadcast_recipients},
        query_timeout_seconds=settings.query_timeout_seconds,
    )


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or get_settings()
    # The validation rules are built once and reused by every request:
    # ValidationCache keys on the rule classes, and a limiter made per request
    # would mint new classes each time and never hit the cache.
    limit_rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    if not settings.introspection_enabled:
        limit_rules.append(NoSchemaIntrospectionCustomRule)
    limits = operation_limits(settings)
    cached_chars = settings.max_cached_document_chars
    production_only = [HideSuggestions] if settings.production else []
    return DaybookSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALARS),
        query_timeout_seconds=settings.query_timeout_seconds,
        extensions=[
            lambda: AddValidationRules(limit_rules),
            lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
            # Both caches live at module level, shared by every request: parsing
            # and validating a document costs ~1 ms, a cache hit ~50 µs. Big
            # documents are never kept (backend/api/hygiene.py).
            lambda: SmallDocumentParserCache(maxsize=1024, max_chars=cached_chars),
            lambda: SmallDocumentValidationCache(maxsize=1024, max_chars=cached_chars),
            lambda: OperationLimits(limits),
            lambda: MaskErrors(
                should_mask_error=_is_unexpected, error_message="Internal server error."
            ),
            *production_only,
        ],
    )
