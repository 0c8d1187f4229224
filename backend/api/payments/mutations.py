"""connectStripe, startCardSetup, completeCardSetup, setDefaultPaymentMethod,
removePaymentMethod, payTopUp, buyDays, setPartnerTerms."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from backend.api.context import principal_of
from backend.api.errors import payload_or_user_errors
from backend.api.inputs import id_of, micros_of, optional_id_of, optional_micros_of
from backend.api.payments.payloads import (
    CardSetupPayload,
    PaymentAccountPayload,
    PaymentMethodsPayload,
    PaymentPayload,
)
from backend.api.payments.types import CardSetup, Payment, PaymentAccount, PaymentMethod
from backend.api.scalars import DecimalString
from backend.api.tenants.payloads import PartnerPayload
from backend.api.tenants.types import Partner
from backend.domain import access, payments
from backend.domain.models import PaymentMethod as PaymentMethodRow
from backend.domain.models import Role


def _methods(rows: list[PaymentMethodRow]) -> PaymentMethodsPayload:
    return PaymentMethodsPayload(payment_methods=[PaymentMethod.from_instance(r) for r in rows])


def _payment(result: payments.PaymentResult) -> PaymentPayload:
    return PaymentPayload(payment=Payment.from_instance(result.payment), replayed=result.replayed)


@strawberry.type
class PaymentMutations:
    @strawberry.mutation(
        description="A partner's own Stripe account (PARTNER, or ADMIN for it), or the "
        "platform's (ADMIN, partnerId omitted). The secrets are stored encrypted."
    )
    async def connect_stripe(
        self,
        info: Info,
        secret_key: str,
        publishable_key: str,
        webhook_secret: str,
        partner_id: strawberry.ID | None = None,
    ) -> PaymentAccountPayload:
        async def build() -> PaymentAccountPayload:
            access.require_role(principal_of(info), Role.ADMIN, Role.PARTNER)
            account = await payments.connect_stripe(
                principal_of(info),
                partner_id=optional_id_of(partner_id, "partnerId"),
                secret_key=secret_key,
                publishable_key=publishable_key,
                webhook_secret=webhook_secret,
            )
            return PaymentAccountPayload(account=PaymentAccount.from_instance(account))

        return await payload_or_user_errors(PaymentAccountPayload, build)

    @strawberry.mutation(description="A SetupIntent for the customer's browser to save a card.")
    async def start_card_setup(self, info: Info, customer_id: strawberry.ID) -> CardSetupPayload:
        async def build() -> CardSetupPayload:
            setup = await payments.start_card_setup(
                principal_of(info), customer_id=id_of(customer_id, "customerId")
            )
            return CardSetupPayload(
                setup=CardSetup(
                    client_secret=setup.client_secret, publishable_key=setup.publishable_key
                )
            )

        return await payload_or_user_errors(CardSetupPayload, build)

    @strawberry.mutation(
        description="After the browser confirmed it: that card becomes the default."
    )
    async def complete_card_setup(
        self, info: Info, customer_id: strawberry.ID, setup_intent_id: str
    ) -> PaymentMethodsPayload:
        async def build() -> PaymentMethodsPayload:
            return _methods(
                await payments.complete_card_setup(
                    principal_of(info),
                    customer_id=id_of(customer_id, "customerId"),
                    setup_intent_id=setup_intent_id,
                )
            )

        return await payload_or_user_errors(PaymentMethodsPayload, build)

    @strawberry.mutation
    async def set_default_payment_method(
        self, info: Info, customer_id: strawberry.ID, payment_method_id: strawberry.ID
    ) -> PaymentMethodsPayload:
        async def build() -> PaymentMethodsPayload:
            return _methods(
                await payments.set_default_method(
                    principal_of(info),
                    customer_id=id_of(customer_id, "customerId"),
                    method_id=id_of(payment_method_id, "paymentMethodId"),
                )
            )

        return await payload_or_user_errors(PaymentMethodsPayload, build)

    @strawberry.mutation
    async def remove_payment_method(
        self, info: Info, customer_id: strawberry.ID, payment_method_id: strawberry.ID
    ) -> PaymentMethodsPayload:
        async def build() -> PaymentMethodsPayload:
            return _methods(
                await payments.remove_method(
                    principal_of(info),
                    customer_id=id_of(customer_id, "customerId"),
                    method_id=id_of(payment_method_id, "paymentMethodId"),
                )
            )

        return await payload_or_user_errors(PaymentMethodsPayload, build)

    @strawberry.mutation(
        description="CUSTOMER (own wallet) or its PARTNER: a card top-up. With a card (the one "
        "named, else the default) charged off-session at once; without one, PENDING with a "
        "clientSecret for Stripe.js, and the money arrives with the provider's event."
    )
    async def pay_top_up(
        self,
        info: Info,
        wallet_id: strawberry.ID,
        amount: DecimalString,
        idempotency_key: str,
        payment_method_id: strawberry.ID | None = None,
    ) -> PaymentPayload:
        async def build() -> PaymentPayload:
            access.require_role(principal_of(info), Role.PARTNER, Role.CUSTOMER)
            return _payment(
                await payments.pay_top_up(
                    principal_of(info),
                    wallet_id=id_of(wallet_id, "walletId"),
                    amount_micros=micros_of(amount),
                    idempotency_key=idempotency_key,
                    payment_method_id=optional_id_of(payment_method_id, "paymentMethodId"),
                )
            )

        return await payload_or_user_errors(PaymentPayload, build)

    @strawberry.mutation(
        description="PARTNER pays the platform days x dayPrice; the days arrive when the "
        "payment SUCCEEDS."
    )
    async def buy_days(
        self, info: Info, partner_id: strawberry.ID, days: int, idempotency_key: str
    ) -> PaymentPayload:
        async def build() -> PaymentPayload:
            access.require_role(principal_of(info), Role.ADMIN, Role.PARTNER)
            return _payment(
                await payments.buy_days(
                    principal_of(info),
                    partner_id=id_of(partner_id, "partnerId"),
                    days=days,
                    idempotency_key=idempotency_key,
                )
            )

        return await payload_or_user_errors(PaymentPayload, build)

    @strawberry.mutation(description="ADMIN: the day price and trial eligibility, with a comment.")
    async def set_partner_terms(
        self,
        info: Info,
        partner_id: strawberry.ID,
        comment: str,
        day_price: DecimalString | None = None,
        trial_eligible: bool | None = None,
    ) -> PartnerPayload:
        async def build() -> PartnerPayload:
            access.require_role(principal_of(info), Role.ADMIN)
            partner = await payments.set_partner_terms(
                principal_of(info),
                partner_id=id_of(partner_id, "partnerId"),
                day_price_micros=optional_micros_of(day_price, "dayPrice"),
                trial_eligible=trial_eligible,
                comment=comment,
            )
            return PartnerPayload(partner=Partner.from_instance(partner))

        return await payload_or_user_errors(PartnerPayload, build)
