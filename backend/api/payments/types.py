"""Payments: accounts at the provider, saved cards, and payments with their status."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend.api.context import principal_of
from backend.api.core.types import Money, upward
from backend.api.days.types import DayEntry
from backend.api.pagination import Connection, fetch_page, to_connection
from backend.domain import models, payments
from backend.settings import get_settings

PaymentStatus = strawberry.enum(models.PaymentStatus)
PaymentPurpose = strawberry.enum(models.PaymentPurpose)
ProviderEventStatus = strawberry.enum(models.ProviderEventStatus)

# The wallet credit lives one area up (wallets imports this module).
WALLETS_MODULE = "backend.api.wallets.types"
LedgerEntryRef = Annotated["LedgerEntry", strawberry.lazy(WALLETS_MODULE)]  # noqa: F821


@strawberry.type(description="A connected Stripe account; its secrets are never returned.")
class PaymentAccount:
    provider: str
    publishable_key: str
    webhook_url: str = strawberry.field(
        description="Where the provider must POST its events (DAYBOOK_PUBLIC_URL, else relative)."
    )

    @classmethod
    def from_instance(cls, account: models.PaymentAccount) -> PaymentAccount:
        return cls(
            provider=account.provider,
            publishable_key=account.publishable_key,
            webhook_url=payments.webhook_url(account),
        )


@strawberry.type(description="A saved card: the provider's id, brand, last4 and expiry only.")
class PaymentMethod:
    id: strawberry.ID
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    is_default: bool

    @classmethod
    def from_instance(cls, method: models.PaymentMethod) -> PaymentMethod:
        return cls(
            id=strawberry.ID(str(method.id)),
            brand=method.brand,
            last4=method.last4,
            exp_month=method.exp_month,
            exp_year=method.exp_year,
            is_default=method.is_default,
        )


@strawberry.type
class CardSetup:
    client_secret: str
    publishable_key: str

    @strawberry.field(
        description="Where the browser loads Stripe.js from (DAYBOOK_STRIPE_JS_URL; Stripe's own "
        "by default)."
    )
    def stripe_js_url(self) -> str:
        return get_settings().stripe_js_url


@strawberry.type
class Payment:
    id: strawberry.ID
    purpose: PaymentPurpose
    status: PaymentStatus
    amount: Money
    provider_reference: str | None
    failure_code: str | None
    created_at: datetime
    updated_at: datetime
    _model: strawberry.Private[models.Payment]

    @classmethod
    def from_instance(cls, payment: models.Payment) -> Payment:
        return cls(
            id=strawberry.ID(str(payment.id)),
            purpose=models.PaymentPurpose(payment.purpose),
            status=models.PaymentStatus(payment.status),
            amount=Money.of(payment.amount_micros, payment.currency_code),
            provider_reference=payment.provider_reference,
            failure_code=payment.failure_code,
            created_at=payment.created_at,
            updated_at=payment.updated_at,
            _model=payment,
        )

    @strawberry.field(
        description="For the payer's browser (Stripe.js) while PENDING or REQUIRES_ACTION; "
        "shown only to the payer."
    )
    def client_secret(self, info: Info) -> str | None:
        if not self._for_the_payer(info):
            return None
        return self._model.client_secret

    def _for_the_payer(self, info: Info) -> bool:
        return payments.may_finish(principal_of(info), self._model)

    @strawberry.field(
        description="The publishable key of the account that created the PaymentIntent (the "
        "platform's for a day purchase, the partner's for a wallet), for Stripe.js in the "
        "payer's browser; like clientSecret, only to the payer while PENDING or REQUIRES_ACTION."
    )
    async def publishable_key(self, info: Info) -> str | None:
        if not self._for_the_payer(info):
            return None
        account = await models.PaymentAccount.get(id=self._model.account_id)
        return account.publishable_key

    @strawberry.field(
        description="Where the payer's browser loads Stripe.js from (DAYBOOK_STRIPE_JS_URL), "
        "while PENDING or REQUIRES_ACTION; like clientSecret, shown only to the payer."
    )
    def stripe_js_url(self, info: Info) -> str | None:
        if not self._for_the_payer(info):
            return None
        return get_settings().stripe_js_url

    @strawberry.field(description="The wallet credit once SUCCEEDED (TOP_UP, AUTO_RECHARGE).")
    async def entry(self) -> LedgerEntryRef | None:
        if self._model.entry_id is None:
            return None
        row = await models.LedgerEntry.get(id=self._model.entry_id)
        return upward("LedgerEntry", WALLETS_MODULE).from_instance(row, self._model.currency_code)

    @strawberry.field(description="The PURCHASE day entry once SUCCEEDED (DAY_PURCHASE).")
    async def day_entry(self) -> DayEntry | None:
        if self._model.day_entry_id is None:
            return None
        return DayEntry.from_instance(await models.DayEntry.get(id=self._model.day_entry_id))


@strawberry.type(description="An event the payment provider POSTed, as stored (ADMIN).")
class ProviderEvent:
    id: strawberry.ID
    provider_event_id: str
    type: str
    status: ProviderEventStatus
    error: str | None
    body: str
    received_at: datetime
    processed_at: datetime | None

    @classmethod
    def from_instance(cls, event: models.ProviderEvent) -> ProviderEvent:
        return cls(
            id=strawberry.ID(str(event.id)),
            provider_event_id=event.provider_event_id,
            type=event.type,
            status=models.ProviderEventStatus(event.status),
            error=event.error,
            body=event.body,
            received_at=event.received_at,
            processed_at=event.processed_at,
        )


async def payment_connection(
    query, first: int | None, after: str | None, status: models.PaymentStatus | None = None
) -> Connection[Payment]:
    """Payments newest first, optionally of one status."""
    if status is not None:
        query = query.filter(status=status)
    page = await fetch_page(query, first=first, after=after, newest_first=True)
    return to_connection(page, Payment.from_instance)
