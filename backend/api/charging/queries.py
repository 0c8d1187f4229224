"""Query fields of the charging area: conversations, the rate card, stored webhooks."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from backend.api.charging.types import Conversation, Rate, WebhookEvent, WebhookEventStatus
from backend.api.context import principal_of
from backend.api.errors import as_graphql_error
from backend.api.inputs import filter_id_of
from backend.api.pagination import Connection, fetch_page, to_connection
from backend.domain import access, charging, validation
from backend.domain import rates as rates_domain
from backend.domain.clock import clock
from backend.domain.errors import DomainError, InvalidCurrency
from backend.domain.models import Role
from backend.domain.models import Wallet as WalletModel
from backend.domain.models import WebhookEvent as WebhookEventModel


@strawberry.type
class ChargingQueries:
    @strawberry.field(description="Charged and free conversations, newest first.")
    async def conversations(
        self,
        info: Info,
        customer_id: strawberry.ID | None = None,
        channel_id: strawberry.ID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Conversation]:
        query = charging.visible_conversations(principal_of(info))
        if customer_id is not None:
            query = query.filter(customer_id=filter_id_of(customer_id))
        if channel_id is not None:
            query = query.filter(channel_id=filter_id_of(channel_id))
        if since is not None:
            query = query.filter(opened_at__gte=since)
        if until is not None:
            query = query.filter(opened_at__lt=until)
        page = await fetch_page(query, first=first, after=after, newest_first=True)
        wallets = {
            w.id: w.currency_code
            for w in await WalletModel.filter(id__in={c.wallet_id for c in page.rows})
        }
        return to_connection(page, lambda c: Conversation.from_instance(c, wallets[c.wallet_id]))

    @strawberry.field(description="The rate card in force at `at` (default now), before markup.")
    async def rates(
        self,
        market: str | None = None,
        at: datetime | None = None,
        currency_code: str = "USD",
    ) -> list[Rate]:
        # A list: one card's markets times categories is bounded, and the contract fixes it.
        try:
            if len(currency_code.strip()) != len("USD"):
                # Not echoed: the caller may have sent ten thousand characters.
                raise InvalidCurrency(
                    "currencyCode is an ISO 4217 code such as USD or EUR.", field="currency_code"
                )
            code = validation.currency_code(currency_code)
        except DomainError as error:
            raise as_graphql_error(error) from error
        card, rows = await rates_domain.rates_in_force(code, at or clock.now(), market)
        return [Rate.from_instance(row, card) for row in rows] if card else []

    @strawberry.field(
        description="ADMIN: stored webhook events; DEAD ones are the dead-letter list."
    )
    async def webhook_events(
        self,
        info: Info,
        status: WebhookEventStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[WebhookEvent]:
        """Newest first; every webhook Meta ever sent is kept, so this is paged."""
        try:
            access.require_role(principal_of(info), Role.ADMIN)
        except DomainError as error:
            raise as_graphql_error(error) from error
        query = WebhookEventModel.all()
        if status is not None:
            query = query.filter(status=status)
        page = await fetch_page(query, first=first, after=after, newest_first=True)
        return to_connection(page, WebhookEvent.from_instance)
