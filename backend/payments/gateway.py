"""The Stripe gateway: every call Daybook makes to the provider, through the official SDK.

Each call has a timeout and network retries (``StripeClient`` with an httpx
client and ``max_network_retries``), and a write carries an idempotency key
derived from ours, so a retry — the SDK's or ours — never charges twice.
Nothing here touches the database: callers ask the provider outside any
transaction or lock and record the answer afterwards.

``DAYBOOK_STRIPE_API_BASE`` points the client at another Stripe-compatible
server (localstripe in the tests).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import stripe

from backend.settings import get_settings


class ProviderError(Exception):
    """The provider did not do what was asked; ``message`` says why, for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unavailable(ProviderError):
    """Unreachable, too slow, rate-limited, or our credentials refused: nothing was done."""


class Refused(ProviderError):
    """The provider refused the request itself (an unknown object, a bad parameter)."""


class NotWholeMinorUnits(ValueError):
    """An amount with a fraction of the currency's smallest unit."""


# What a PaymentIntent's status means to us (the names of backend.domain.models.PaymentStatus).
SUCCEEDED = "SUCCEEDED"
REQUIRES_ACTION = "REQUIRES_ACTION"
CANCELED = "CANCELED"
PENDING = "PENDING"
FAILED = "FAILED"

# ISO 4217 minor units where they are not 2 (Stripe's zero- and three-decimal currencies).
_EXPONENTS = {
    **dict.fromkeys("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split(), 0),
    **dict.fromkeys("BHD JOD KWD OMR TND".split(), 3),
}


def minor_units(amount_micros: int, currency: str) -> int:
    """Micro-units as the provider's integer amount (cents); a fraction of a cent is refused."""
    exponent = _EXPONENTS.get(currency.upper(), 2)
    factor = 10 ** (6 - exponent)
    if amount_micros % factor:
        raise NotWholeMinorUnits(
            f"{currency} is paid in whole minor units: {exponent} decimal places at most."
        )
    return amount_micros // factor


def micros_of_minor(amount: int, currency: str) -> int:
    return amount * 10 ** (6 - _EXPONENTS.get(currency.upper(), 2))


def derived_key(*parts: object) -> str:
    """A provider idempotency key derived from ours (never our key itself, which a caller chose)."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:40]
    return f"daybook-{digest}"


@dataclass(frozen=True)
class Intent:
    """What the provider says of a PaymentIntent, in our terms."""

    id: str | None
    status: str  # SUCCEEDED, REQUIRES_ACTION, CANCELED, PENDING or FAILED
    client_secret: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Card:
    provider_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    customer: str | None


@dataclass(frozen=True)
class Setup:
    id: str
    status: str
    customer: str | None
    payment_method: str | None
    client_secret: str | None


_STATUSES = {"succeeded": SUCCEEDED, "requires_action": REQUIRES_ACTION, "canceled": CANCELED}


def intent_of(data: dict[str, Any]) -> Intent:
    """A PaymentIntent (an API answer or an event's object, as a dict) in our terms."""
    error = data.get("last_payment_error") or {}
    status = _STATUSES.get(data.get("status", ""), PENDING)
    if status == PENDING and error:
        # requires_payment_method after an attempt: that attempt was declined.
        status = FAILED
    return Intent(
        id=data.get("id"),
        status=status,
        client_secret=data.get("client_secret"),
        failure_code=error.get("decline_code") or error.get("code"),
        failure_message=error.get("message"),
        metadata=dict(data.get("metadata") or {}),
    )


_clients: dict[tuple[str, str, float, int], stripe.StripeClient] = {}


def client(secret_key: str) -> stripe.StripeClient:
    """One SDK client per key and configuration, with its timeout and retries."""
    settings = get_settings()
    config = (
        secret_key,
        settings.stripe_api_base,
        settings.stripe_timeout_seconds,
        settings.stripe_max_retries,
    )
    made = _clients.get(config)
    if made is None:
        made = stripe.StripeClient(
            secret_key,
            base_addresses={"api": settings.stripe_api_base},
            http_client=stripe.HTTPXClient(timeout=settings.stripe_timeout_seconds),
            max_network_retries=settings.stripe_max_retries,
        )
        _clients[config] = made
    return made


def _unavailable(error: stripe.StripeError) -> Unavailable:
    return Unavailable(
        f"The payment provider could not be reached or refused the request: "
        f"{error.user_message or type(error).__name__}. Nothing was charged; try again."
    )


async def _call(coroutine: Any) -> Any:
    """Run one SDK call; connection trouble, rate limits and bad credentials are unavailability."""
    try:
        return await coroutine
    except (
        stripe.APIConnectionError,
        stripe.AuthenticationError,
        stripe.PermissionError,
        stripe.RateLimitError,
        stripe.APIError,
    ) as error:
        raise _unavailable(error) from error
    except stripe.InvalidRequestError as error:
        raise Refused(
            f"The payment provider refused the request: {error.user_message or error}"
        ) from error


async def create_customer(secret_key: str, *, name: str, metadata: dict[str, str]) -> str:
    made = await _call(
        client(secret_key).v1.customers.create_async(
            params={"name": name, "metadata": metadata},
            options={"idempotency_key": derived_key("customer", *metadata.values())},
        )
    )
    return made.id


async def create_setup_intent(secret_key: str, *, customer: str, key: str) -> Setup:
    made = await _call(
        client(secret_key).v1.setup_intents.create_async(
            params={"customer": customer, "payment_method_types": ["card"], "usage": "off_session"},
            options={"idempotency_key": derived_key("setup", key)},
        )
    )
    return _setup_of(made)


def _setup_of(made: Any) -> Setup:
    data = made.to_dict()
    method = data.get("payment_method")
    if isinstance(method, dict):
        method = method.get("id")
    return Setup(
        id=data["id"],
        status=data.get("status", ""),
        customer=data.get("customer"),
        payment_method=method,
        client_secret=data.get("client_secret"),
    )


async def retrieve_setup_intent(secret_key: str, setup_intent_id: str) -> Setup:
    try:
        found = await client(secret_key).v1.setup_intents.retrieve_async(setup_intent_id)
    except stripe.InvalidRequestError:
        return Setup(setup_intent_id, "missing", None, None, None)
    except stripe.StripeError as error:
        raise _unavailable(error) from error
    return _setup_of(found)


async def retrieve_card(secret_key: str, payment_method_id: str) -> Card:
    found = (
        await _call(client(secret_key).v1.payment_methods.retrieve_async(payment_method_id))
    ).to_dict()
    card = found.get("card") or {}
    return Card(
        provider_id=found["id"],
        brand=str(card.get("brand") or "unknown"),
        last4=str(card.get("last4") or "")[-4:],
        exp_month=int(card.get("exp_month") or 0),
        exp_year=int(card.get("exp_year") or 0),
        customer=found.get("customer"),
    )


async def attach_card(secret_key: str, payment_method_id: str, customer: str) -> None:
    await _call(
        client(secret_key).v1.payment_methods.attach_async(
            payment_method_id, params={"customer": customer}
        )
    )


async def detach_card(secret_key: str, payment_method_id: str) -> None:
    await _call(client(secret_key).v1.payment_methods.detach_async(payment_method_id))


async def create_intent(
    secret_key: str,
    *,
    amount_micros: int,
    currency: str,
    key: str,
    metadata: dict[str, str],
    customer: str | None = None,
    payment_method: str | None = None,
) -> Intent:
    """A PaymentIntent: with a saved card, confirmed off-session at once; else for the browser.

    A decline is an answer, not an error: FAILED with the provider's code.
    """
    params: dict[str, Any] = {
        "amount": minor_units(amount_micros, currency),
        "currency": currency.lower(),
        "metadata": metadata,
        "payment_method_types": ["card"],
    }
    if customer:
        params["customer"] = customer
    if payment_method:
        params.update(payment_method=payment_method, confirm=True, off_session=True)
    sdk = client(secret_key)
    try:
        made = await _call(
            sdk.v1.payment_intents.create_async(
                params=params, options={"idempotency_key": derived_key("intent", key)}
            )
        )
    except stripe.CardError as error:
        return await _declined(secret_key, error)
    return intent_of(made.to_dict())


async def _declined(secret_key: str, error: stripe.CardError) -> Intent:
    """A declined off-session charge; its PaymentIntent id, from the error or its charge."""
    body = (error.json_body or {}).get("error") or {}
    intent = body.get("payment_intent")
    intent_id = intent.get("id") if isinstance(intent, dict) else intent
    if intent_id is None and body.get("charge"):
        try:
            charge = await client(secret_key).v1.charges.retrieve_async(body["charge"])
            intent_id = charge.to_dict().get("payment_intent")
        except stripe.StripeError:
            intent_id = None  # the payment's metadata still ties the provider's events to it
    return Intent(
        id=intent_id,
        status=FAILED,
        failure_code=body.get("decline_code") or error.code or "card_declined",
        failure_message=body.get("message") or error.user_message,
    )


async def retrieve_intent(secret_key: str, intent_id: str) -> Intent:
    found = await _call(client(secret_key).v1.payment_intents.retrieve_async(intent_id))
    return intent_of(found.to_dict())


def verify_event(payload: bytes, signature: str, webhook_secret: str) -> dict[str, Any]:
    """The event if ``Stripe-Signature`` is right for this secret (the SDK checks it), else raise."""
    event = stripe.Webhook.construct_event(payload.decode("utf-8"), signature, webhook_secret)
    return event.to_dict()
