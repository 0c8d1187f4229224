"""Tenants: partners, their customers, plans, and who is calling.

Tenant rules that concern *fields* (a customer must not list its siblings)
live here; rules about *which object* an id may name live in
``backend.domain.access``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from backend.api.alerts.types import AlertWebhook
from backend.api.channels.types import Channel, ChannelStatus, channel_connection
from backend.api.context import loaders_of, principal_of
from backend.api.core.types import Money, percent
from backend.api.days.types import DayEntry, DayEntryKind
from backend.api.errors import as_graphql_error
from backend.api.inputs import filter_id_of
from backend.api.invoices.types import Invoice, InvoiceStatus, invoice_connection
from backend.api.pagination import Connection, fetch_page, to_connection
from backend.api.payments.types import Payment, PaymentAccount, PaymentMethod, payment_connection
from backend.api.scalars import DecimalString
from backend.api.wallets.types import Wallet
from backend.domain import invoices, models, partner_days, payments, plans
from backend.domain.clock import clock
from backend.domain.errors import DomainError, Forbidden

Role = strawberry.enum(models.Role)


@strawberry.type
class Plan:
    id: strawberry.ID
    name: str
    monthly_fee: Money
    tax_rate_percent: DecimalString
    currency_code: str

    @classmethod
    def from_instance(cls, plan: models.Plan) -> Plan:
        return cls(
            id=strawberry.ID(str(plan.id)),
            name=plan.name,
            monthly_fee=Money.of(plan.monthly_fee_micros, plan.currency_code),
            tax_rate_percent=percent(plan.tax_rate_percent_micros),
            currency_code=plan.currency_code,
        )


@strawberry.type
class Customer:
    id: strawberry.ID
    name: str
    suspended: bool
    created_at: datetime
    _model: strawberry.Private[models.Customer]

    @classmethod
    def from_instance(cls, customer: models.Customer) -> Customer:
        return cls(
            id=strawberry.ID(str(customer.id)),
            name=customer.name,
            suspended=customer.suspended,
            created_at=customer.created_at,
            _model=customer,
        )

    @strawberry.field
    async def partner(self, info: Info) -> Partner:
        row = await loaders_of(info).partner.load(self._model.partner_id)
        return Partner.from_instance(row)

    @strawberry.field
    async def wallet(self, info: Info) -> Wallet:
        row = await loaders_of(info).wallet_by_customer.load(self._model.id)
        return Wallet.from_instance(row)

    @strawberry.field
    async def channels(
        self,
        first: int | None = None,
        after: str | None = None,
        status: ChannelStatus | None = None,
    ) -> Connection[Channel]:
        return await channel_connection(
            models.Channel.filter(customer_id=self._model.id), first, after, status
        )

    @strawberry.field
    async def invoices(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        status: InvoiceStatus | None = None,
    ) -> Connection[Invoice]:
        """Newest first; a CUSTOMER key sees issued invoices only (drafts are its partner's)."""
        query = invoices.visible_to(principal_of(info)).filter(customer_id=self._model.id)
        return await invoice_connection(query, first, after, status)

    @strawberry.field(description="Saved cards at the partner's provider, the default first.")
    async def payment_methods(self) -> list[PaymentMethod]:
        rows = await payments.methods_query(self._model.id)
        return [PaymentMethod.from_instance(row) for row in rows]

    async def _assignments(self, info: Info) -> tuple[Any, Any]:
        """The plan assignment in force now and the pending one, from one batched read."""
        rows = await loaders_of(info).plan_assignments.load(self._model.id)
        return plans.current_and_pending(rows, clock.now())

    @strawberry.field(description="The plan in force now.")
    async def plan(self, info: Info) -> Plan | None:
        current, _ = await self._assignments(info)
        if current is None or current.plan_id is None:
            return None
        return Plan.from_instance(await loaders_of(info).plan.load(current.plan_id))

    @strawberry.field(
        description="A plan change set with setCustomerPlan, in force from nextPlanFrom."
    )
    async def next_plan(self, info: Info) -> Plan | None:
        _, pending = await self._assignments(info)
        if pending is None or pending.plan_id is None:
            return None
        return Plan.from_instance(await loaders_of(info).plan.load(pending.plan_id))

    @strawberry.field(description="When a pending plan change (or its removal) takes effect.")
    async def next_plan_from(self, info: Info) -> datetime | None:
        _, pending = await self._assignments(info)
        return pending.effective_from if pending else None


def _not_for_customers(info: Info, what: str) -> None:
    """A customer sees its partner's name, never the reseller's own business."""
    if principal_of(info).role == models.Role.CUSTOMER:
        raise as_graphql_error(Forbidden(f"A customer cannot read its partner's {what}."))


@strawberry.type
class Partner:
    id: strawberry.ID
    name: str
    currency_code: str
    created_at: datetime
    _model: strawberry.Private[models.Partner]

    @classmethod
    def from_instance(cls, partner: models.Partner) -> Partner:
        return cls(
            id=strawberry.ID(str(partner.id)),
            name=partner.name,
            currency_code=partner.currency_code,
            created_at=partner.created_at,
            _model=partner,
        )

    @strawberry.field
    def day_balance(self, info: Info) -> int:
        _not_for_customers(info, "day balance")
        return self._model.day_balance

    @strawberry.field
    def day_price(self, info: Info) -> Money:
        _not_for_customers(info, "day price")
        return Money.of(self._model.day_price_micros, self._model.currency_code)

    @strawberry.field
    def low_days_threshold(self, info: Info) -> int | None:
        _not_for_customers(info, "threshold")
        return self._model.low_days_threshold

    @strawberry.field
    def trial_eligible(self, info: Info) -> bool:
        _not_for_customers(info, "trial terms")
        return self._model.trial_eligible

    @strawberry.field
    def markup_percent(self, info: Info) -> DecimalString:
        _not_for_customers(info, "markup")
        return percent(self._model.markup_percent_micros)

    @strawberry.field(description="Where this partner's alerts are POSTed.")
    async def alert_webhooks(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[AlertWebhook]:
        """Oldest first; registrations are not capped, so this is paged."""
        _not_for_customers(info, "alert webhooks")
        query = models.AlertWebhook.filter(partner_id=self._model.id, removed_at=None)
        page = await fetch_page(query, first=first, after=after, newest_first=False)
        return to_connection(page, AlertWebhook.from_instance)

    @strawberry.field(
        description="Every customer's invoices, newest first; `period` is YYYY-MM. Not for CUSTOMER keys."
    )
    async def invoices(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        status: InvoiceStatus | None = None,
        period: str | None = None,
    ) -> Connection[Invoice]:
        _not_for_customers(info, "invoices")
        query = invoices.visible_to(principal_of(info)).filter(partner_id=self._model.id)
        if period is not None:
            query = query.filter(period=period)
        return await invoice_connection(query, first, after, status)

    @strawberry.field
    async def customers(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Customer]:
        query = models.Customer.filter(partner_id=self._model.id)
        principal = principal_of(info)
        if principal.role == models.Role.CUSTOMER:
            # A customer may see its partner, never its partner's other customers.
            query = query.filter(id=principal.customer_id)
        page = await fetch_page(query, first=first, after=after, newest_first=False)
        return to_connection(page, Customer.from_instance)

    @strawberry.field
    async def channels(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        status: ChannelStatus | None = None,
    ) -> Connection[Channel]:
        query = models.Channel.filter(partner_id=self._model.id)
        principal = principal_of(info)
        if principal.role == models.Role.CUSTOMER:
            query = query.filter(customer_id=principal.customer_id)
        return await channel_connection(query, first, after, status)

    @strawberry.field(description="The Stripe account it collects through; null until connected.")
    async def payment_account(self, info: Info) -> PaymentAccount | None:
        _not_for_customers(info, "payment account")
        account = await payments.account_of(self._model.id)
        return PaymentAccount.from_instance(account) if account else None

    @strawberry.field(description="Days bought from the platform (DAY_PURCHASE), newest first.")
    async def day_purchases(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Payment]:
        _not_for_customers(info, "day purchases")
        query = models.Payment.filter(
            partner_id=self._model.id, purpose=models.PaymentPurpose.DAY_PURCHASE
        )
        return await payment_connection(query, first, after)

    @strawberry.field(description="The billing history of the day balance, newest first.")
    async def day_entries(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        channel_id: strawberry.ID | None = None,
        kind: DayEntryKind | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Connection[DayEntry]:
        try:
            query = partner_days.history_query(
                principal_of(info),
                self._model.id,
                channel_id=filter_id_of(channel_id),
                kind=kind,
                since=since,
                until=until,
            )
        except DomainError as error:
            raise as_graphql_error(error) from error
        page = await fetch_page(query, first=first, after=after, newest_first=True)
        return to_connection(page, DayEntry.from_instance)


@strawberry.type
class Viewer:
    role: Role
    _partner_id: strawberry.Private[int | None]
    _customer_id: strawberry.Private[int | None]

    @strawberry.field
    async def partner(self, info: Info) -> Partner | None:
        if self._partner_id is None:
            return None
        return Partner.from_instance(await loaders_of(info).partner.load(self._partner_id))

    @strawberry.field
    async def customer(self, info: Info) -> Customer | None:
        if self._customer_id is None:
            return None
        return Customer.from_instance(await loaders_of(info).customer.load(self._customer_id))
