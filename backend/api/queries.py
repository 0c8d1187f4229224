"""The Query root: thin resolvers, auth -> domain lookup -> API type."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from backend.api.context import principal_of
from backend.api.errors import as_graphql_error
from backend.api.pagination import Connection, decode_cursor, fetch_page, page_size, to_connection
from backend.api.types import (
    Alert,
    Channel,
    Conversation,
    Customer,
    Invoice,
    Partner,
    Plan,
    Rate,
    Viewer,
    Wallet,
    WebhookEvent,
    WebhookEventStatus,
)
from backend.domain import access, alerts, channels, charging, invoices, plans
from backend.domain import rates as rates_domain
from backend.domain.clock import clock
from backend.domain.errors import DomainError
from backend.domain.models import Partner as PartnerModel
from backend.domain.models import Role
from backend.domain.models import Wallet as WalletModel
from backend.domain.models import WebhookEvent as WebhookEventModel


@strawberry.type
class Query:
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
            return Partner.from_instance(await access.get_partner(principal_of(info), id, "id"))
        except DomainError as error:
            raise as_graphql_error(error) from error

    @strawberry.field(description="Every partner, oldest first (ADMIN only).")
    async def partners(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> list[Partner]:
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
            return Customer.from_instance(await access.get_customer(principal_of(info), id, "id"))
        except DomainError as error:
            raise as_graphql_error(error) from error

    @strawberry.field
    async def wallet(self, info: Info, id: strawberry.ID) -> Wallet | None:
        try:
            return Wallet.from_instance(await access.get_wallet(principal_of(info), id, "id"))
        except DomainError as error:
            raise as_graphql_error(error) from error

    @strawberry.field
    async def channel(self, info: Info, id: strawberry.ID) -> Channel | None:
        try:
            return Channel.from_instance(await channels.get_channel(principal_of(info), id, "id"))
        except DomainError as error:
            raise as_graphql_error(error) from error

    @strawberry.field
    async def invoice(self, info: Info, id: strawberry.ID) -> Invoice | None:
        try:
            return Invoice.from_instance(await invoices.get_invoice(principal_of(info), id))
        except DomainError as error:
            raise as_graphql_error(error) from error

    @strawberry.field(description="Alerts the caller may see, newest first.")
    async def alerts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        unresolved_only: bool = False,
        partner_id: strawberry.ID | None = None,
    ) -> list[Alert]:
        """``partnerId`` narrows an ADMIN's view to one partner (another's is NOT_FOUND)."""
        try:
            query = await alerts.visible_to_in(principal_of(info), partner_id)
        except DomainError as error:
            raise as_graphql_error(error) from error
        if unresolved_only:
            query = query.filter(resolved_at=None)
        if after:
            query = query.filter(id__lt=decode_cursor(after))
        rows = await query.order_by("-id").limit(page_size(first))
        return [Alert.from_instance(row) for row in rows]

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
        try:
            if customer_id is not None:
                query = query.filter(customer_id=access.parse_id(customer_id, field="customerId"))
            if channel_id is not None:
                query = query.filter(channel_id=access.parse_id(channel_id, field="channelId"))
        except DomainError:
            query = query.filter(id=0)  # an id that names nothing matches nothing
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
        card, rows = await rates_domain.rates_in_force(
            currency_code.upper(), at or clock.now(), market
        )
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
    ) -> list[WebhookEvent]:
        try:
            access.require_role(principal_of(info), Role.ADMIN)
        except DomainError as error:
            raise as_graphql_error(error) from error
        query = WebhookEventModel.all()
        if status is not None:
            query = query.filter(status=status)
        if after:
            query = query.filter(id__lt=decode_cursor(after))
        return [
            WebhookEvent.from_instance(e)
            for e in await query.order_by("-id").limit(page_size(first))
        ]

    @strawberry.field
    async def plans(self, info: Info) -> list[Plan]:
        return [Plan.from_instance(plan) for plan in await plans.visible_plans(principal_of(info))]
