"""GraphQL object types, kept apart from the ORM models.

Each type is built with ``from_instance(model)``; related objects are loaded
through the per-request dataloaders, and every list is a Relay connection.
Tenant rules that concern *fields* (a customer must not list its siblings)
live here; rules about *which object* an id may name live in
``backend.domain.access``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from backend.api.context import loaders_of, principal_of
from backend.api.errors import as_graphql_error
from backend.api.pagination import Connection, fetch_page, to_connection
from backend.api.scalars import DecimalString
from backend.domain import channels, invoices, models, partner_days, plans, wallets
from backend.domain.clock import clock
from backend.domain.errors import DomainError, Forbidden
from backend.domain.money import format_micros
from backend.webhooks import processing

Role = strawberry.enum(models.Role)
LedgerEntryKind = strawberry.enum(models.LedgerEntryKind)
DayEntryKind = strawberry.enum(models.DayEntryKind)
ChannelStatus = strawberry.enum(models.ChannelStatus)
MessagingTier = strawberry.enum(models.MessagingTier)
AlertKind = strawberry.enum(models.AlertKind)
ConversationCategory = strawberry.enum(models.ConversationCategory)
ConversationOrigin = strawberry.enum(models.ConversationOrigin)
PricingModel = strawberry.enum(models.PricingModel)
HoldStatus = strawberry.enum(models.HoldStatus)
WebhookEventStatus = strawberry.enum(models.WebhookEventStatus)
DeliveryStatus = strawberry.enum(models.DeliveryStatus)
InvoiceStatus = strawberry.enum(models.InvoiceStatus)


@strawberry.type
class Money:
    amount: DecimalString
    currency_code: str

    @classmethod
    def of(cls, micros: int, currency_code: str) -> Money:
        return cls(amount=DecimalString(format_micros(micros)), currency_code=currency_code)


def _percent(micros: int) -> DecimalString:
    return DecimalString(format_micros(micros))


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
            tax_rate_percent=_percent(plan.tax_rate_percent_micros),
            currency_code=plan.currency_code,
        )


@strawberry.type
class LedgerEntry:
    id: strawberry.ID
    kind: LedgerEntryKind
    amount: Money
    balance_after: Money
    comment: str | None
    reference: str | None
    created_at: datetime

    @classmethod
    def from_instance(cls, entry: models.LedgerEntry, currency_code: str) -> LedgerEntry:
        return cls(
            id=strawberry.ID(str(entry.id)),
            kind=models.LedgerEntryKind(entry.kind),
            amount=Money.of(entry.amount_micros, currency_code),
            balance_after=Money.of(entry.balance_after_micros, currency_code),
            comment=entry.comment,
            reference=entry.reference,
            created_at=entry.created_at,
        )


@strawberry.type
class DayEntry:
    id: strawberry.ID
    kind: DayEntryKind
    days: int
    day_balance_after: int
    comment: str
    created_at: datetime
    _channel_id: strawberry.Private[int | None]

    @classmethod
    def from_instance(cls, entry: models.DayEntry) -> DayEntry:
        return cls(
            id=strawberry.ID(str(entry.id)),
            kind=models.DayEntryKind(entry.kind),
            days=entry.days,
            day_balance_after=entry.day_balance_after,
            comment=entry.comment,
            created_at=entry.created_at,
            _channel_id=entry.channel_id,
        )

    @strawberry.field
    async def channel(
        self, info: Info
    ) -> Annotated[Channel, strawberry.lazy("backend.api.types")] | None:
        if self._channel_id is None:
            return None
        return Channel.from_instance(await loaders_of(info).channel.load(self._channel_id))


@strawberry.type
class Channel:
    id: strawberry.ID
    name: str
    phone_number: str
    phone_number_id: str | None
    status: ChannelStatus
    active_until: datetime | None
    days_remaining: int
    messaging_tier: MessagingTier
    created_at: datetime
    _model: strawberry.Private[models.Channel]

    @classmethod
    def from_instance(cls, channel: models.Channel) -> Channel:
        now = clock.now()
        return cls(
            id=strawberry.ID(str(channel.id)),
            name=channel.name,
            phone_number=channel.phone_number,
            phone_number_id=channel.phone_number_id,
            status=channels.effective_status(channel, now),
            active_until=channel.active_until,
            days_remaining=channels.days_remaining(channel, now),
            messaging_tier=models.MessagingTier(channel.messaging_tier),
            created_at=channel.created_at,
            _model=channel,
        )

    @strawberry.field
    async def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("backend.api.types")]:
        return Customer.from_instance(await loaders_of(info).customer.load(self._model.customer_id))

    @strawberry.field(
        description="Whole paid days deleteChannel would refund now (never free trial days)."
    )
    async def refundable_days(self, info: Info) -> int:
        if self._model.status == models.ChannelStatus.DELETED:
            return 0
        lots = await loaders_of(info).channel_lots.load(self._model.id)
        now = clock.now()
        return sum(channels.refundable_days(lot, now) for lot in lots)


async def invoice_connection(
    query, first: int | None, after: str | None, status: models.InvoiceStatus | None
) -> Connection[Invoice]:
    """A page of invoices, newest first, optionally of one status."""
    if status is not None:
        query = query.filter(status=status)
    page = await fetch_page(query, first=first, after=after, newest_first=True)
    return to_connection(page, Invoice.from_instance)


async def channel_connection(
    query, first: int | None, after: str | None, status: models.ChannelStatus | None
) -> Connection[Channel]:
    query = channels.filter_by_status(query, status, clock.now())
    page = await fetch_page(query, first=first, after=after, newest_first=False)
    return to_connection(page, Channel.from_instance)


@strawberry.type
class Alert:
    id: strawberry.ID
    kind: AlertKind
    message: str
    partner_id: strawberry.ID | None
    customer_id: strawberry.ID | None
    wallet_id: strawberry.ID | None
    channel_id: strawberry.ID | None
    created_at: datetime
    resolved_at: datetime | None

    @classmethod
    def from_instance(cls, alert: models.Alert) -> Alert:
        def as_id(value: int | None) -> strawberry.ID | None:
            return None if value is None else strawberry.ID(str(value))

        return cls(
            id=strawberry.ID(str(alert.id)),
            kind=models.AlertKind(alert.kind),
            message=alert.message,
            partner_id=as_id(alert.partner_id),
            customer_id=as_id(alert.customer_id),
            wallet_id=as_id(alert.wallet_id),
            channel_id=as_id(alert.channel_id),
            created_at=alert.created_at,
            resolved_at=alert.resolved_at,
        )


@strawberry.type
class Hold:
    id: strawberry.ID
    amount: Money
    remaining: Money
    status: HoldStatus
    recipients: int
    expires_at: datetime
    category: ConversationCategory
    created_at: datetime

    @classmethod
    def from_instance(cls, hold: models.Hold, currency_code: str) -> Hold:
        return cls(
            id=strawberry.ID(str(hold.id)),
            amount=Money.of(hold.amount_micros, currency_code),
            remaining=Money.of(hold.remaining_micros, currency_code),
            status=models.HoldStatus(hold.status),
            recipients=hold.recipients,
            expires_at=hold.expires_at,
            category=models.ConversationCategory(hold.category),
            created_at=hold.created_at,
        )


@strawberry.type
class Rate:
    market: str
    category: ConversationCategory
    price: Money
    effective_from: datetime

    @classmethod
    def from_instance(cls, rate: models.Rate, card: models.RateCard) -> Rate:
        return cls(
            market=rate.market,
            category=models.ConversationCategory(rate.category),
            price=Money.of(rate.price_micros, card.currency_code),
            effective_from=card.effective_from,
        )


@strawberry.type
class AutoRecharge:
    enabled: bool
    threshold: Money
    amount: Money
    daily_cap: Money
    consecutive_failures: int = strawberry.field(
        description="After 3 in a row the rule disables itself and raises AUTO_RECHARGE_FAILED."
    )
    last_attempt_at: datetime | None
    last_error: str | None
    _wallet_id: strawberry.Private[int]

    @classmethod
    def from_instance(cls, rule: models.AutoRechargeRule, currency_code: str) -> AutoRecharge:
        return cls(
            enabled=rule.enabled,
            threshold=Money.of(rule.threshold_micros, currency_code),
            amount=Money.of(rule.amount_micros, currency_code),
            daily_cap=Money.of(rule.daily_cap_micros, currency_code),
            consecutive_failures=rule.consecutive_failures,
            last_attempt_at=rule.last_attempt_at,
            last_error=rule.last_error,
            _wallet_id=rule.wallet_id,
        )

    @strawberry.field(
        description="Set while a recharge is in flight: the gateway was asked and its answer "
        "is not recorded yet (the jobs loop asks again with the same idempotency key). "
        "Long-pending means the gateway is not answering; no other recharge starts meanwhile."
    )
    async def pending_since(self) -> datetime | None:
        pending = await models.RechargeAttempt.get_or_none(
            wallet_id=self._wallet_id, status=models.RechargeAttemptStatus.PENDING
        )
        return pending.created_at if pending else None


@strawberry.type
class Wallet:
    id: strawberry.ID
    balance: Money
    available: Money
    credit_limit: Money
    held: Money = strawberry.field(description="Money reserved by active broadcast holds.")
    low_balance_threshold: Money | None
    _model: strawberry.Private[models.Wallet]

    @classmethod
    def from_instance(cls, wallet: models.Wallet) -> Wallet:
        currency = wallet.currency_code
        threshold = wallet.low_balance_threshold_micros
        return cls(
            id=strawberry.ID(str(wallet.id)),
            balance=Money.of(wallet.balance_micros, currency),
            available=Money.of(wallet.available_micros, currency),
            credit_limit=Money.of(wallet.credit_limit_micros, currency),
            held=Money.of(wallet.held_micros, currency),
            low_balance_threshold=None if threshold is None else Money.of(threshold, currency),
            _model=wallet,
        )

    @strawberry.field
    async def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("backend.api.types")]:
        row = await loaders_of(info).customer.load(self._model.customer_id)
        return Customer.from_instance(row)

    @strawberry.field
    async def entries(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        kind: LedgerEntryKind | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Connection[LedgerEntry]:
        """The wallet's ledger, newest first; ``since`` inclusive, ``until`` exclusive."""
        query = wallets.entries_query(self._model, kind=kind, since=since, until=until)
        page = await fetch_page(query, first=first, after=after, newest_first=True)
        currency = self._model.currency_code
        return to_connection(page, lambda e: LedgerEntry.from_instance(e, currency))

    @strawberry.field
    async def auto_recharge(self, info: Info) -> AutoRecharge | None:
        # Through a loader: a page of 200 customers' wallets is one query, not 200.
        rule = await loaders_of(info).recharge_rule_by_wallet.load(self._model.id)
        return AutoRecharge.from_instance(rule, self._model.currency_code) if rule else None

    @strawberry.field(description="Broadcast holds, newest first.")
    async def holds(
        self, first: int | None = None, after: str | None = None, status: HoldStatus | None = None
    ) -> Connection[Hold]:
        query = models.Hold.filter(wallet_id=self._model.id)
        if status is not None:
            query = query.filter(status=status)
        page = await fetch_page(query, first=first, after=after, newest_first=True)
        currency = self._model.currency_code
        return to_connection(page, lambda h: Hold.from_instance(h, currency))


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
    async def partner(self, info: Info) -> Annotated[Partner, strawberry.lazy("backend.api.types")]:
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
        return _percent(self._model.markup_percent_micros)

    @strawberry.field(description="Where this partner's alerts are POSTed.")
    async def alert_webhooks(
        self, info: Info
    ) -> list[Annotated[AlertWebhook, strawberry.lazy("backend.api.types")]]:
        _not_for_customers(info, "alert webhooks")
        hooks = await models.AlertWebhook.filter(partner_id=self._model.id, removed_at=None)
        return [AlertWebhook.from_instance(hook) for hook in hooks]

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
                channel_id=channel_id,
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


@strawberry.type
class Conversation:
    id: strawberry.ID
    external_id: str
    category: ConversationCategory
    origin: ConversationOrigin
    pricing_model: PricingModel
    market: str
    recipient: str
    billable: bool
    price: Money
    opened_at: datetime
    _model: strawberry.Private[models.Conversation]

    @classmethod
    def from_instance(cls, conversation: models.Conversation, currency_code: str) -> Conversation:
        return cls(
            id=strawberry.ID(str(conversation.id)),
            external_id=conversation.external_id,
            category=models.ConversationCategory(conversation.category),
            origin=models.ConversationOrigin(conversation.origin),
            pricing_model=models.PricingModel(conversation.pricing_model),
            market=conversation.market,
            recipient=conversation.recipient,
            billable=conversation.billable,
            price=Money.of(conversation.price_micros, currency_code),
            opened_at=conversation.opened_at,
            _model=conversation,
        )

    @strawberry.field
    async def channel(self, info: Info) -> Channel:
        return Channel.from_instance(await loaders_of(info).channel.load(self._model.channel_id))


@strawberry.type(description="A WhatsApp webhook as received, and what became of it.")
class WebhookEvent:
    id: strawberry.ID
    partner_id: strawberry.ID
    status: WebhookEventStatus
    attempts: int
    last_error: str | None
    received_at: datetime
    processed_at: datetime | None
    payload: JSON | None

    @classmethod
    def from_instance(cls, event: models.WebhookEvent) -> WebhookEvent:
        payload = processing.parse_body(event.body)
        return cls(
            id=strawberry.ID(str(event.id)),
            partner_id=strawberry.ID(str(event.partner_id)),
            status=models.WebhookEventStatus(event.status),
            attempts=event.attempts,
            last_error=event.last_error,
            received_at=event.received_at,
            processed_at=event.processed_at,
            payload=None if isinstance(payload, processing.Unreadable) else payload,
        )


@strawberry.type
class AlertDelivery:
    id: strawberry.ID
    alert_id: strawberry.ID
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def from_instance(cls, delivery: models.AlertDelivery) -> AlertDelivery:
        return cls(
            id=strawberry.ID(str(delivery.id)),
            alert_id=strawberry.ID(str(delivery.alert_id)),
            status=models.DeliveryStatus(delivery.status),
            attempts=delivery.attempts,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            next_attempt_at=delivery.next_attempt_at,
            delivered_at=delivery.delivered_at,
            created_at=delivery.created_at,
        )


@strawberry.type
class AlertWebhook:
    id: strawberry.ID
    url: str
    created_at: datetime
    removed_at: datetime | None
    _model: strawberry.Private[models.AlertWebhook]

    @classmethod
    def from_instance(cls, hook: models.AlertWebhook) -> AlertWebhook:
        return cls(
            id=strawberry.ID(str(hook.id)),
            url=hook.url,
            created_at=hook.created_at,
            removed_at=hook.removed_at,
            _model=hook,
        )

    @strawberry.field(description="Delivery attempts, newest first.")
    async def deliveries(
        self, first: int | None = None, after: str | None = None
    ) -> Connection[AlertDelivery]:
        query = models.AlertDelivery.filter(webhook_id=self._model.id)
        page = await fetch_page(query, first=first, after=after, newest_first=True)
        return to_connection(page, AlertDelivery.from_instance)


@strawberry.type
class InvoiceLine:
    description: str
    quantity: int
    unit_price: Money
    amount: Money
    prepaid: bool = strawberry.field(
        description="Already settled from the wallet: shown as a statement, not in the total."
    )

    @classmethod
    def from_instance(cls, line: models.InvoiceLine, currency_code: str) -> InvoiceLine:
        return cls(
            description=line.description,
            quantity=line.quantity,
            unit_price=Money.of(line.unit_price_micros, currency_code),
            amount=Money.of(line.amount_micros, currency_code),
            prepaid=line.prepaid,
        )


def pdf_path(invoice_id: int) -> str:
    return f"/invoices/{invoice_id}.pdf"


@strawberry.type
class Invoice:
    id: strawberry.ID
    number: str = strawberry.field(
        description='Sequential per partner with no gaps, e.g. "P1-2026-000042"; a DRAFT '
        'has none yet and reads "DRAFT-<id>".'
    )
    period: str
    status: InvoiceStatus
    subtotal: Money
    tax: Money
    total: Money
    issued_at: datetime | None
    due_at: datetime | None
    paid_at: datetime | None
    _model: strawberry.Private[models.Invoice]

    @classmethod
    def from_instance(cls, invoice: models.Invoice) -> Invoice:
        currency = invoice.currency_code
        return cls(
            id=strawberry.ID(str(invoice.id)),
            number=invoices.display_number(invoice),
            period=invoice.period,
            status=models.InvoiceStatus(invoice.status),
            subtotal=Money.of(invoice.subtotal_micros, currency),
            tax=Money.of(invoice.tax_micros, currency),
            total=Money.of(invoice.total_micros, currency),
            issued_at=invoice.issued_at,
            due_at=invoice.due_at,
            paid_at=invoice.paid_at,
            _model=invoice,
        )

    @strawberry.field
    async def customer(self, info: Info) -> Customer:
        return Customer.from_instance(await loaders_of(info).customer.load(self._model.customer_id))

    @strawberry.field
    async def lines(self, info: Info) -> list[InvoiceLine]:
        rows = await loaders_of(info).invoice_lines.load(self._model.id)
        return [InvoiceLine.from_instance(row, self._model.currency_code) for row in rows]

    @strawberry.field(description="GET it with the same bearer key.")
    def pdf_url(self, info: Info) -> str | None:
        request = info.context.request
        path = pdf_path(self._model.id)
        if request is None or not hasattr(request, "base_url"):
            return path
        return str(request.base_url).rstrip("/") + path
