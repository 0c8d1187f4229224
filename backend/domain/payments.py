"""Money in: payment accounts, saved cards, payments and what the provider says of them.

The rule (design "Money in"): a PaymentIntent is created on our side, and
only a SUCCEEDED payment posts a movement, once per PaymentIntent however
often and in whatever order the synchronous answer and the provider's events
arrive. ``settle`` is the one place that happens: in one transaction it moves
the payment to its new status with a conditional UPDATE (a payment already
SUCCEEDED is never moved again), and only the transaction that made it
SUCCEEDED posts the entry and links it, so the credit is keyed on the payment
row, which is unique per PaymentIntent (``provider_reference``).

The provider is asked outside any transaction or lock (``backend.payments.gateway``, which knows nothing of the domain):
first the payment is written (PENDING, with its idempotency key), committed,
then the provider is asked with a key derived from ours, then its answer is
recorded. A provider that is down leaves a FAILED payment and a clear error.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from backend.db import db_datetime, dialect_sql, model_from_row
from backend.domain import access, alerts, day_ledger, idempotency, ledger, validation
from backend.domain.access import Principal
from backend.domain.clock import clock
from backend.domain.errors import (
    DomainError,
    InvalidAmount,
    InvalidArgument,
    NotFound,
    PaymentFailed,
    PaymentsNotConfigured,
    ProviderUnavailable,
)
from backend.domain.ledger import FundsPolicy
from backend.domain.models import (
    AlertKind,
    DayEntryKind,
    LedgerEntryKind,
    Partner,
    PartnerTermsChange,
    Payment,
    PaymentAccount,
    PaymentCustomer,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
    RechargeAttempt,
    Role,
    Wallet,
)
from backend.domain.money import MAX_MOVEMENT_MICROS, check_micros, format_micros
from backend.domain.unit_of_work import transaction
from backend.payments import gateway
from backend.payments.gateway import Intent
from backend.secret_box import open_sealed, seal
from backend.settings import get_settings

log = logging.getLogger("daybook.payments")
T = TypeVar("T")

PROVIDER = "stripe"
PLATFORM = "platform"
MAX_PURCHASE_DAYS = 1_000_000
# A payment the provider was asked about and never answered: a replay may ask again.
STALE_AFTER = timedelta(minutes=2)
# Metadata key tying a PaymentIntent (and its events) to our payment.
PAYMENT_METADATA = "daybook_payment"


async def _provider(call: Awaitable[T]) -> T:
    """One provider call, its failures as the domain's errors (nothing is held meanwhile)."""
    try:
        return await call
    except gateway.Unavailable as error:
        raise ProviderUnavailable(error.message) from error
    except gateway.Refused as error:
        raise PaymentFailed(error.message) from error


def _minor(amount_micros: int, currency: str, field: str = "amount") -> int:
    try:
        return gateway.minor_units(amount_micros, currency)
    except gateway.NotWholeMinorUnits as error:
        raise InvalidAmount(str(error), field=field) from error


# ---- accounts ---------------------------------------------------------------


def owner_of(partner_id: int | None) -> str:
    return PLATFORM if partner_id is None else f"partner:{partner_id}"


def webhook_url(account: PaymentAccount) -> str:
    path = f"/webhooks/stripe/{account.partner_id or PLATFORM}"
    return get_settings().public_url + path


def _key(text: str, prefixes: tuple[str, ...], field: str, what: str) -> str:
    text = validation.free_text(text or "", field=field).strip()
    if not text.startswith(prefixes) or not 8 <= len(text) <= 200 or " " in text:
        raise InvalidArgument(
            f"That is not a Stripe {what} (it starts with {' or '.join(prefixes)}).", field=field
        )
    return text


async def connect_stripe(
    principal: Principal,
    *,
    partner_id: int | None,
    secret_key: str,
    publishable_key: str,
    webhook_secret: str,
) -> PaymentAccount:
    """A partner's own account (PARTNER, or ADMIN for it), or the platform's (ADMIN, no partner)."""
    if partner_id is None:
        access.require_role(principal, Role.ADMIN)
    else:
        access.require_role(principal, Role.ADMIN, Role.PARTNER)
        await access.get_partner(principal, partner_id)
    secret = _key(secret_key, ("sk_", "rk_"), "secret_key", "secret key")
    public = _key(publishable_key, ("pk_",), "publishable_key", "publishable key")
    signing = _key(webhook_secret, ("whsec_",), "webhook_secret", "webhook signing secret")
    now = clock.now()
    values = {
        "provider": PROVIDER,
        "publishable_key": public,
        "secret_key": seal(secret),
        "webhook_secret": seal(signing),
        "updated_at": now,
    }
    owner = owner_of(partner_id)
    async with transaction() as conn:
        updated = await PaymentAccount.filter(owner=owner).using_db(conn).update(**values)
        if not updated:
            await PaymentAccount.create(
                owner=owner, partner_id=partner_id, created_at=now, using_db=conn, **values
            )
    return await PaymentAccount.get(owner=owner)


async def account_of(partner_id: int | None) -> PaymentAccount | None:
    return await PaymentAccount.get_or_none(owner=owner_of(partner_id))


async def _required_account(partner_id: int | None) -> PaymentAccount:
    account = await account_of(partner_id)
    if account is None:
        whose = "the platform" if partner_id is None else "this partner"
        raise PaymentsNotConfigured(f"No Stripe account is connected for {whose} (connectStripe).")
    return account


# ---- partner terms ---------------------------------------------------------


async def set_partner_terms(
    principal: Principal,
    *,
    partner_id: int,
    day_price_micros: int | None,
    trial_eligible: bool | None,
    comment: str,
) -> Partner:
    """ADMIN: the day price and trial eligibility, each change kept with its comment."""
    access.require_role(principal, Role.ADMIN)
    partner = await access.get_partner(principal, partner_id)
    clean = validation.comment(comment, required=True)
    if day_price_micros is not None:
        check_micros(day_price_micros, field="day_price", allow_zero=True)
    async with transaction() as conn:
        changes: dict[str, Any] = {}
        if day_price_micros is not None:
            changes["day_price_micros"] = day_price_micros
        if trial_eligible is not None:
            changes["trial_eligible"] = trial_eligible
        if changes:
            await Partner.filter(id=partner.id).using_db(conn).update(**changes)
        after = await Partner.get(id=partner.id).using_db(conn)
        await PartnerTermsChange.create(
            partner_id=partner.id,
            day_price_micros=after.day_price_micros,
            trial_eligible=after.trial_eligible,
            comment=clean,
            changed_by=principal.idempotency_scope,
            created_at=clock.now(),
            using_db=conn,
        )
    return await Partner.get(id=partner.id)


# ---- saved cards -------------------------------------------------------------


@dataclass(frozen=True)
class CardSetup:
    client_secret: str
    publishable_key: str


async def _customer_and_account(principal: Principal, customer_id: int):
    customer = await access.get_customer(principal, customer_id)
    account = await _required_account(customer.partner_id)
    return customer, account


async def _provider_customer(account: PaymentAccount, customer) -> str:
    """The provider's customer for ours, created at the provider on first use."""
    found = await PaymentCustomer.get_or_none(account_id=account.id, customer_id=customer.id)
    if found is not None:
        return found.provider_customer_id
    made = await _provider(
        gateway.create_customer(
            open_sealed(account.secret_key),
            name=customer.name,
            metadata={"daybook_account": str(account.id), "daybook_customer": str(customer.id)},
        )
    )
    async with transaction() as conn:
        await conn.execute_query(
            dialect_sql(
                conn,
                "INSERT INTO payment_customers (account_id, customer_id, provider_customer_id,"
                " created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, customer_id)"
                " DO NOTHING",
            ),
            [account.id, customer.id, made, db_datetime(conn, clock.now())],
        )
    # Two first uses at once: whichever row was stored is the one both use.
    stored = await PaymentCustomer.get(account_id=account.id, customer_id=customer.id)
    return stored.provider_customer_id


async def start_card_setup(principal: Principal, *, customer_id: int) -> CardSetup:
    customer, account = await _customer_and_account(principal, customer_id)
    provider_customer = await _provider_customer(account, customer)
    setup = await _provider(
        gateway.create_setup_intent(
            open_sealed(account.secret_key),
            customer=provider_customer,
            key=f"{customer.id}:{clock.now().isoformat()}",
        )
    )
    return CardSetup(setup.client_secret or "", account.publishable_key)


def methods_query(customer_id: int) -> QuerySet:
    """The customer's saved cards, the default first."""
    return PaymentMethod.filter(customer_id=customer_id, removed_at=None).order_by(
        "-is_default", "-id"
    )


async def complete_card_setup(
    principal: Principal, *, customer_id: int, setup_intent_id: str
) -> list[PaymentMethod]:
    """The browser confirmed the SetupIntent: store its card (id, brand, last4, expiry), default."""
    customer, account = await _customer_and_account(principal, customer_id)
    setup_intent_id = validation.free_text(setup_intent_id or "", field="setup_intent_id").strip()
    link = await PaymentCustomer.get_or_none(account_id=account.id, customer_id=customer.id)
    secret = open_sealed(account.secret_key)
    setup = (
        await _provider(gateway.retrieve_setup_intent(secret, setup_intent_id))
        if link and setup_intent_id
        else None
    )
    if setup is None or setup.customer != link.provider_customer_id:
        # Another customer's (or tenant's) SetupIntent names nothing here.
        raise NotFound("No such card setup.", field="setup_intent_id")
    if setup.status != "succeeded" or not setup.payment_method:
        raise InvalidArgument(
            f"The card setup is not confirmed yet ({setup.status}).", field="setup_intent_id"
        )
    card = await _provider(gateway.retrieve_card(secret, setup.payment_method))
    if card.customer is None:
        # Stripe attaches a confirmed SetupIntent's card itself; some servers do not.
        await _provider(gateway.attach_card(secret, card.provider_id, link.provider_customer_id))
    elif card.customer != link.provider_customer_id:
        raise NotFound("No such card setup.", field="setup_intent_id")
    now = clock.now()
    async with transaction() as conn:
        existing = await PaymentMethod.get_or_none(
            account_id=account.id, provider_id=card.provider_id
        ).using_db(conn)
        if existing is not None and existing.customer_id != customer.id:
            raise NotFound("No such card setup.", field="setup_intent_id")
        await (
            PaymentMethod.filter(customer_id=customer.id, is_default=True)
            .using_db(conn)
            .update(is_default=False)
        )
        values = {
            "brand": card.brand,
            "last4": card.last4,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
            "is_default": True,
            "removed_at": None,
        }
        if existing is None:
            await PaymentMethod.create(
                account_id=account.id,
                customer_id=customer.id,
                provider_id=card.provider_id,
                created_at=now,
                using_db=conn,
                **values,
            )
        else:
            await PaymentMethod.filter(id=existing.id).using_db(conn).update(**values)
    return list(await methods_query(customer.id))


async def _own_method(customer_id: int, method_id: int, conn=None) -> PaymentMethod:
    query = PaymentMethod.filter(id=method_id, customer_id=customer_id, removed_at=None)
    method = await (query.using_db(conn) if conn else query).first()
    if method is None:
        raise NotFound("No such payment method.", field="payment_method_id")
    return method


async def set_default_method(
    principal: Principal, *, customer_id: int, method_id: int
) -> list[PaymentMethod]:
    customer = await access.get_customer(principal, customer_id)
    async with transaction() as conn:
        method = await _own_method(customer.id, method_id, conn)
        await (
            PaymentMethod.filter(customer_id=customer.id, is_default=True)
            .using_db(conn)
            .update(is_default=False)
        )
        await PaymentMethod.filter(id=method.id).using_db(conn).update(is_default=True)
    return list(await methods_query(customer.id))


async def remove_method(
    principal: Principal, *, customer_id: int, method_id: int
) -> list[PaymentMethod]:
    """Detach the card at the provider, then forget it; the newest other card becomes default."""
    customer, account = await _customer_and_account(principal, customer_id)
    method = await _own_method(customer.id, method_id)
    await _provider(gateway.detach_card(open_sealed(account.secret_key), method.provider_id))
    async with transaction() as conn:
        await (
            PaymentMethod.filter(id=method.id)
            .using_db(conn)
            .update(removed_at=clock.now(), is_default=False)
        )
        if method.is_default:
            newest = (
                await PaymentMethod.filter(customer_id=customer.id, removed_at=None)
                .using_db(conn)
                .order_by("-id")
                .first()
            )
            if newest is not None:
                await PaymentMethod.filter(id=newest.id).using_db(conn).update(is_default=True)
    return list(await methods_query(customer.id))


# ---- payments ------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment
    replayed: bool


def visible_payments(principal: Principal) -> QuerySet:
    """ADMIN: every payment; PARTNER: its own and its customers'; CUSTOMER: its own."""
    if principal.role == Role.ADMIN:
        return Payment.all()
    if principal.role == Role.PARTNER:
        return Payment.filter(partner_id=principal.partner_id)
    return Payment.filter(customer_id=principal.customer_id)


def is_payer(principal: Principal, payment: Payment) -> bool:
    """The customer paying, or the partner paying (or paying for it)."""
    if principal.role == Role.CUSTOMER:
        return payment.customer_id == principal.customer_id
    return principal.role == Role.PARTNER and payment.partner_id == principal.partner_id


def may_finish(principal: Principal, payment: Payment) -> bool:
    """Whether ``principal`` is given what finishes the payment in its browser (the client
    secret, the publishable key): only the payer, and only while the payment waits for it."""
    waiting = payment.status in (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION)
    return waiting and is_payer(principal, payment)


async def pay_top_up(
    principal: Principal,
    *,
    wallet_id: int,
    amount_micros: int,
    idempotency_key: str,
    payment_method_id: int | None = None,
) -> PaymentResult:
    """A card top-up of the customer's own wallet (CUSTOMER), or by its PARTNER.

    With a card (the one named, or else the default), an off-session
    PaymentIntent confirmed at once; without one, PENDING with a client secret
    for the browser, and the money arrives with ``payment_intent.succeeded``.
    """
    access.require_role(principal, Role.PARTNER, Role.CUSTOMER)
    wallet = await access.get_wallet(principal, wallet_id)
    check_micros(amount_micros, field="amount")
    _minor(amount_micros, wallet.currency_code)
    customer = await wallet.customer
    account = await _required_account(customer.partner_id)
    if payment_method_id is not None:
        method: PaymentMethod | None = await _own_method(customer.id, payment_method_id)
    else:
        method = await PaymentMethod.get_or_none(
            customer_id=customer.id, removed_at=None, is_default=True
        )
    request = {
        "wallet": wallet.id,
        "amount": amount_micros,
        "payment_method": payment_method_id,
    }
    return await _create_and_ask(
        principal,
        idempotency_key=idempotency_key,
        operation="payTopUp",
        request=request,
        values={
            "purpose": PaymentPurpose.TOP_UP,
            "amount_micros": amount_micros,
            "currency_code": wallet.currency_code,
            "account_id": account.id,
            "partner_id": customer.partner_id,
            "customer_id": customer.id,
            "wallet_id": wallet.id,
            "payment_method_id": method.id if method else None,
        },
    )


async def buy_days(
    principal: Principal, *, partner_id: int, days: int, idempotency_key: str
) -> PaymentResult:
    """A partner pays the platform days x dayPrice; the days arrive when the payment SUCCEEDS."""
    access.require_role(principal, Role.ADMIN, Role.PARTNER)
    partner = await access.get_partner(principal, partner_id)
    days = validation.whole_days(days, maximum=MAX_PURCHASE_DAYS)
    account = await _required_account(None)
    amount = partner.day_price_micros * days
    if amount <= 0:
        raise InvalidArgument(
            "This partner's day price is zero: record free days with purchaseDays.",
            field="days",
        )
    check_micros(amount, field="days", max_micros=MAX_MOVEMENT_MICROS)
    _minor(amount, partner.currency_code, "days")
    return await _create_and_ask(
        principal,
        idempotency_key=idempotency_key,
        operation="buyDays",
        request={"partner": partner.id, "days": days},
        values={
            "purpose": PaymentPurpose.DAY_PURCHASE,
            "amount_micros": amount,
            "currency_code": partner.currency_code,
            "account_id": account.id,
            "partner_id": partner.id,
            "days": days,
            "day_price_micros": partner.day_price_micros,
        },
    )


async def _create_and_ask(
    principal: Principal,
    *,
    idempotency_key: str,
    operation: str,
    request: dict[str, Any],
    values: dict[str, Any],
) -> PaymentResult:
    key = idempotency.validate_key(idempotency_key)
    if key is None:
        raise InvalidArgument("A payment needs an idempotency key.", field="idempotency_key")
    scope = principal.idempotency_scope

    async def create(conn: BaseDBAsyncClient) -> dict[str, Any]:
        now = clock.now()
        made = await Payment.create(
            status=PaymentStatus.PENDING,
            idempotency_scope=scope,
            idempotency_key=key,
            created_at=now,
            updated_at=now,
            using_db=conn,
            **values,
        )
        return {"payment": made.id}

    result, replayed = await idempotency.run_once(
        scope=scope, key=key, operation=operation, request=request, action=create
    )
    payment = await Payment.get(id=result["payment"])
    unanswered = payment.status == PaymentStatus.PENDING and payment.provider_reference is None
    if unanswered and (not replayed or payment.updated_at <= clock.now() - STALE_AFTER):
        # First call, or a retry of one whose answer was lost: the same provider key.
        await ask_provider(payment)
        payment = await Payment.get(id=payment.id)
    return PaymentResult(payment, replayed)


async def ask_provider(payment: Payment) -> Intent:
    """Create the payment's PaymentIntent (no transaction open) and record the answer.

    The provider unreachable: the payment is FAILED and the caller hears
    PROVIDER_UNAVAILABLE. Should the provider have charged after all, its
    ``payment_intent.succeeded`` event finds the payment by its metadata and
    credits it then.
    """
    account = await PaymentAccount.get(id=payment.account_id)
    customer = method = None
    if payment.payment_method_id is not None:
        method = await PaymentMethod.get(id=payment.payment_method_id)
        link = await PaymentCustomer.get_or_none(
            account_id=account.id, customer_id=payment.customer_id
        )
        customer = link.provider_customer_id if link else None
    await Payment.filter(id=payment.id).update(updated_at=clock.now())
    try:
        intent = await _provider(
            gateway.create_intent(
                open_sealed(account.secret_key),
                amount_micros=payment.amount_micros,
                currency=payment.currency_code,
                key=f"{payment.idempotency_scope}:{payment.idempotency_key}",
                metadata={PAYMENT_METADATA: str(payment.id), "purpose": payment.purpose.value},
                customer=customer,
                payment_method=method.provider_id if method else None,
            )
        )
    except (ProviderUnavailable, PaymentFailed) as error:
        await settle(
            payment.id,
            Intent(
                id=None,
                status=gateway.FAILED,
                failure_code="provider_unavailable"
                if isinstance(error, ProviderUnavailable)
                else "provider_refused",
                failure_message=error.message,
            ),
        )
        raise
    await settle(payment.id, intent)
    return intent


# Which statuses a payment may move to from which: SUCCEEDED is final, and a
# later attempt on the same intent may succeed after a failure.
_FROM = {
    PaymentStatus.SUCCEEDED: (
        PaymentStatus.PENDING,
        PaymentStatus.REQUIRES_ACTION,
        PaymentStatus.FAILED,
        PaymentStatus.CANCELED,
    ),
    PaymentStatus.FAILED: (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION),
    PaymentStatus.REQUIRES_ACTION: (PaymentStatus.PENDING, PaymentStatus.FAILED),
    PaymentStatus.CANCELED: (
        PaymentStatus.PENDING,
        PaymentStatus.REQUIRES_ACTION,
        PaymentStatus.FAILED,
    ),
    PaymentStatus.PENDING: (PaymentStatus.PENDING,),
}


async def settle(payment_id: int, intent: Intent) -> str:
    """Record what the provider says of a payment's intent, exactly once per transition.

    The conditional UPDATE is the key: concurrent answers and events about the
    same intent serialise on the payment row, and only the one that moved it
    to SUCCEEDED posts the money, in the same transaction.
    """
    now = clock.now()
    status = PaymentStatus(intent.status)
    async with transaction() as conn:
        allowed = _FROM[status]
        placeholders = ", ".join(f"${n}" for n in range(6, 6 + len(allowed)))
        rows = await conn.execute_query_dict(
            dialect_sql(
                conn,
                "UPDATE payments SET status = $2, updated_at = $3,"
                " provider_reference = COALESCE(provider_reference, $4),"
                " client_secret = COALESCE($5, client_secret)"
                f" WHERE id = $1 AND status IN ({placeholders}) RETURNING *",
            ),
            [
                payment_id,
                status.value,
                db_datetime(conn, now),
                intent.id,
                intent.client_secret,
                *(status.value for status in allowed),
            ],
        )
        if not rows:
            return "unchanged"
        payment = model_from_row(Payment, rows[0])
        if status == PaymentStatus.SUCCEEDED:
            if payment.purpose != PaymentPurpose.AUTO_RECHARGE:
                # An AUTO_RECHARGE is posted by its durable attempt (``recharge``), which
                # links the entry here: the attempt is what keys that credit.
                await _post(conn, payment)
            return "succeeded"
        if status == PaymentStatus.FAILED:
            await (
                Payment.filter(id=payment.id)
                .using_db(conn)
                .update(
                    failure_code=(intent.failure_code or "declined")[:100],
                    failure_message=(intent.failure_message or "")[:500] or None,
                )
            )
            if payment.purpose != PaymentPurpose.AUTO_RECHARGE:
                await _alert_failure(conn, payment, intent)  # a recharge alerts on its own
        return status.value.lower()


async def _post(conn: BaseDBAsyncClient, payment: Payment) -> None:
    """The one movement a SUCCEEDED payment makes, linked to it (in the settling transaction)."""
    reference = payment.provider_reference or f"payment:{payment.id}"
    if payment.purpose == PaymentPurpose.DAY_PURCHASE:
        movement = await day_ledger.post(
            conn,
            partner_id=payment.partner_id,
            days=payment.days or 0,
            kind=DayEntryKind.PURCHASE,
            comment=(
                f"Bought {payment.days} days at {format_micros(payment.day_price_micros or 0)}"
                f" {payment.currency_code} per day: paid"
                f" {format_micros(payment.amount_micros)} {payment.currency_code} ({reference})"
            ),
        )
        await Payment.filter(id=payment.id).using_db(conn).update(day_entry_id=movement.entry.id)
        return
    movement = await ledger.post(
        conn,
        wallet_id=payment.wallet_id,
        amount_micros=payment.amount_micros,
        kind=LedgerEntryKind.TOP_UP,
        policy=FundsPolicy.REQUIRE_AVAILABLE,
        comment="Card payment",
        reference=reference,
    )
    await Payment.filter(id=payment.id).using_db(conn).update(entry_id=movement.entry.id)


async def _alert_failure(conn: BaseDBAsyncClient, payment: Payment, intent: Intent) -> None:
    await alerts.raise_alert(
        conn,
        kind=AlertKind.PAYMENT_FAILED,
        message=(
            f"A card payment of {format_micros(payment.amount_micros)} {payment.currency_code}"
            f" failed: {intent.failure_code or 'declined'}"
            + (f" ({intent.failure_message})" if intent.failure_message else "")
        ),
        dedupe_key=f"PAYMENT_FAILED:{payment.id}:{payment.updated_at.isoformat()}",
        partner_id=payment.partner_id,
        customer_id=payment.customer_id,
        wallet_id=payment.wallet_id,
    )


async def refresh(payment_id: int) -> str:
    """Ask the provider how a payment's intent stands and record it (the jobs loop, support)."""
    payment = await Payment.get(id=payment_id)
    if payment.provider_reference is None:
        return "no intent"
    account = await PaymentAccount.get(id=payment.account_id)
    intent = await _provider(
        gateway.retrieve_intent(open_sealed(account.secret_key), payment.provider_reference)
    )
    return await settle(payment.id, intent)


# ---- auto-recharge on the default card ---------------------------------------------


RECHARGE_SCOPE = "recharge"


async def charge_for_recharge(*, wallet_id: int, amount_micros: int, idempotency_key: str):
    """Charge a recharge attempt to the customer's default card, off-session.

    None when the customer's partner has no account connected (the caller
    falls back to its sandbox). The attempt's payment is made once (keyed on
    the attempt's key); asked again, an intent already made is retrieved, not
    made anew, so a lost answer never charges twice.
    """
    wallet = await Wallet.get(id=wallet_id)
    customer = await wallet.customer
    account = await account_of(customer.partner_id)
    if account is None:
        return None
    attempt = await RechargeAttempt.get(idempotency_key=idempotency_key)
    method = await PaymentMethod.get_or_none(
        customer_id=customer.id, removed_at=None, is_default=True
    )
    async with transaction() as conn:
        now = db_datetime(conn, clock.now())
        await conn.execute_query(
            dialect_sql(
                conn,
                "INSERT INTO payments (purpose, status, amount_micros, currency_code, account_id,"
                " partner_id, customer_id, wallet_id, payment_method_id, recharge_attempt_id,"
                " idempotency_scope, idempotency_key, refunded_micros, disputed_micros,"
                " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
                " $11, $12, 0, 0, $13, $13)"
                " ON CONFLICT (idempotency_scope, idempotency_key) DO NOTHING",
            ),
            [
                PaymentPurpose.AUTO_RECHARGE.value,
                PaymentStatus.PENDING.value,
                amount_micros,
                wallet.currency_code,
                account.id,
                customer.partner_id,
                customer.id,
                wallet.id,
                method.id if method else None,
                attempt.id,
                RECHARGE_SCOPE,
                idempotency_key,
                now,
            ],
        )
    payment = await Payment.get(idempotency_scope=RECHARGE_SCOPE, idempotency_key=idempotency_key)
    if payment.provider_reference is not None:
        intent = await _provider(
            gateway.retrieve_intent(open_sealed(account.secret_key), payment.provider_reference)
        )
        await settle(payment.id, intent)
        return intent
    if payment.payment_method_id is None:
        intent = Intent(
            id=None,
            status=gateway.FAILED,
            failure_code="no_saved_card",
            failure_message="The customer has no saved card to recharge from.",
        )
        await settle(payment.id, intent)
        return intent
    return await ask_provider(payment)


async def link_recharge_entry(conn: BaseDBAsyncClient, attempt_id: int, entry_id: int) -> None:
    """The AUTO_RECHARGE entry an attempt posted, linked to the attempt's payment (if a card paid)."""
    await (
        Payment.filter(recharge_attempt_id=attempt_id)
        .using_db(conn)
        .update(entry_id=entry_id, status=PaymentStatus.SUCCEEDED, updated_at=clock.now())
    )


# ---- refunds and disputes --------------------------------------------------------


async def take_back(payment: Payment, *, refunded_minor: int | None, disputed_minor: int | None):
    """The provider gave money back to the payer: a REFUND or ADJUSTMENT debit, once, and an alert.

    The amounts are the provider's cumulative ones, so a repeated event moves
    nothing more. The money is gone whatever the balance: FundsPolicy.ALWAYS.
    """
    if payment.purpose == PaymentPurpose.DAY_PURCHASE or payment.wallet_id is None:
        raise DomainError("A refund or dispute of a day purchase is left to an admin.")
    column, kind, what, minor = (
        ("refunded_micros", LedgerEntryKind.REFUND, "Refunded", refunded_minor)
        if refunded_minor is not None
        else ("disputed_micros", LedgerEntryKind.ADJUSTMENT, "Disputed", disputed_minor)
    )
    total = gateway.micros_of_minor(minor or 0, payment.currency_code)
    async with transaction() as conn:
        rows = await conn.execute_query_dict(
            dialect_sql(
                conn,
                f"UPDATE payments SET {column} = $2 WHERE id = $1 AND {column} < $2"
                f" AND status = 'SUCCEEDED' RETURNING {column}",
            ),
            [payment.id, min(total, payment.amount_micros)],
        )
        if not rows:
            return "unchanged"
        before = getattr(payment, column)
        amount = min(total, payment.amount_micros) - before
        movement = await ledger.post(
            conn,
            wallet_id=payment.wallet_id,
            amount_micros=-amount,
            kind=kind,
            policy=FundsPolicy.ALWAYS,
            comment=f"{what} by the card holder at the provider ({payment.provider_reference})",
            reference=payment.provider_reference,
        )
        await alerts.raise_alert(
            conn,
            kind=AlertKind.PAYMENT_FAILED,
            message=(
                f"{what}: {format_micros(amount)} {payment.currency_code} of a card payment was"
                f" taken back at the provider; the wallet was debited."
            ),
            dedupe_key=f"TAKEN_BACK:{payment.id}:{movement.entry.id}",
            partner_id=payment.partner_id,
            customer_id=payment.customer_id,
            wallet_id=payment.wallet_id,
        )
    return what.lower()


async def find_payment(
    account: PaymentAccount, intent_id: str | None, metadata: dict
) -> Payment | None:
    """This account's payment for an intent (by its id, else by our metadata); None if not ours."""
    conditions: list[Q] = []
    if intent_id:
        conditions.append(Q(provider_reference=intent_id))
    raw = str((metadata or {}).get(PAYMENT_METADATA) or "")
    if raw.isdigit() and len(raw) < 19:
        conditions.append(Q(id=int(raw)))
    if not conditions:
        return None
    found = await Payment.filter(Q(*conditions, join_type="OR"), account_id=account.id).first()
    if found is not None and intent_id and found.provider_reference not in (None, intent_id):
        return None  # our metadata on someone else's intent
    return found
