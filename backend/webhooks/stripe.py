"""``POST /webhooks/stripe/{partnerId}`` and ``POST /webhooks/stripe/platform``: provider events.

Each POST is checked with the SDK's own signature verification against that
account's webhook secret (a bad one: 400, stored nowhere), stored (unique per
account and event id) before it is answered, and applied once:

- ``payment_intent.succeeded`` / ``payment_failed`` / ``canceled`` /
  ``requires_action``: the payment's status (``payments.settle``, which credits
  once per PaymentIntent);
- ``charge.refunded`` / ``charge.dispute.created``: a REFUND or ADJUSTMENT
  debit, with a comment and an alert;
- an event about an object that is not this account's, or of a kind not used,
  is IGNORED (the provider may send every endpoint every event);
- one that cannot be applied is DEAD, kept for an admin.

A duplicate (the provider retries for days) is answered 200 and applied no more.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from backend.db import connection, db_datetime, dialect_sql
from backend.domain import payments
from backend.domain.clock import clock
from backend.domain.errors import DomainError
from backend.domain.models import (
    Payment,
    PaymentAccount,
    ProviderEvent,
    ProviderEventStatus,
)
from backend.payments import gateway
from backend.secret_box import SecretUnreadable, open_sealed
from backend.webhooks.bodies import read_body

log = logging.getLogger("daybook.payments.webhook")

MAX_BODY_BYTES = 1024 * 1024

_INTENT_STATUSES = {
    "payment_intent.succeeded": gateway.SUCCEEDED,
    "payment_intent.payment_failed": gateway.FAILED,
    "payment_intent.canceled": gateway.CANCELED,
    "payment_intent.requires_action": gateway.REQUIRES_ACTION,
}
_TAKE_BACK = ("charge.refunded", "charge.dispute.created")


async def _account(request: Request) -> PaymentAccount | None:
    raw = request.path_params["owner"]
    if raw == payments.PLATFORM:
        return await payments.account_of(None)
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return None
    return await payments.account_of(int(raw))


async def receive(request: Request) -> Response:
    account = await _account(request)
    body = await read_body(request, MAX_BODY_BYTES) if account is not None else None
    if account is None or body is None:
        return JSONResponse({"error": "unknown endpoint or body too large"}, status_code=404)
    try:
        event = gateway.verify_event(
            body, request.headers.get("stripe-signature", ""), open_sealed(account.webhook_secret)
        )
    except (stripe.SignatureVerificationError, ValueError, SecretUnreadable):
        return JSONResponse({"error": "signature check failed"}, status_code=400)
    event_id = str(event.get("id") or "")
    if not event_id:
        return JSONResponse({"error": "an event without an id"}, status_code=400)
    stored = await _store(account, event_id, str(event.get("type") or ""), body)
    if stored is None:
        return JSONResponse({"status": "duplicate"})
    status = await process(stored, account, event)
    return JSONResponse({"event": stored, "status": status.value})


async def _store(account: PaymentAccount, event_id: str, kind: str, body: bytes) -> int | None:
    """Store the event (committed before anything else); None if it was stored before."""
    conn = connection()
    rows = await conn.execute_query_dict(
        dialect_sql(
            conn,
            "INSERT INTO provider_events (account_id, provider_event_id, type, body, status,"
            " attempts, received_at) VALUES ($1, $2, $3, $4, $5, 0, $6)"
            " ON CONFLICT (account_id, provider_event_id) DO NOTHING RETURNING id",
        ),
        [
            account.id,
            event_id,
            kind[:100],
            body.decode("utf-8", errors="replace"),
            ProviderEventStatus.PENDING.value,
            db_datetime(conn, clock.now()),
        ],
    )
    return rows[0]["id"] if rows else None


async def process(
    stored_id: int, account: PaymentAccount, event: dict[str, Any]
) -> ProviderEventStatus:
    """Apply a stored event and record how it ended."""
    payment_id = None
    try:
        status, payment_id = await _apply(account, event)
        error = None
    except DomainError as failure:
        status, error = ProviderEventStatus.DEAD, failure.message
    except Exception as failure:  # kept for an admin; the money is keyed, a replay is safe
        log.exception("provider event %s could not be applied", stored_id)
        status, error = ProviderEventStatus.DEAD, f"{type(failure).__name__}: {failure}"
    await ProviderEvent.filter(id=stored_id).update(
        status=status,
        error=error[:1000] if error else None,
        payment_id=payment_id,
        attempts=1,
        processed_at=clock.now(),
    )
    return status


async def _apply(
    account: PaymentAccount, event: dict[str, Any]
) -> tuple[ProviderEventStatus, int | None]:
    kind = event.get("type")
    data = (event.get("data") or {}).get("object") or {}
    if kind in _INTENT_STATUSES:
        payment = await payments.find_payment(account, data.get("id"), data.get("metadata"))
        if payment is None:
            return ProviderEventStatus.IGNORED, None
        intent = gateway.intent_of(data)
        # The event's type says what happened; the object's fields say why.
        intent = gateway.Intent(
            id=intent.id,
            status=_INTENT_STATUSES[kind],
            client_secret=intent.client_secret,
            failure_code=intent.failure_code,
            failure_message=intent.failure_message,
        )
        await payments.settle(payment.id, intent)
        return ProviderEventStatus.PROCESSED, payment.id
    if kind in _TAKE_BACK:
        payment = await payments.find_payment(account, data.get("payment_intent"), {})
        if payment is None:
            return ProviderEventStatus.IGNORED, None
        payment = await Payment.get(id=payment.id)
        if kind == "charge.refunded":
            await payments.take_back(
                payment, refunded_minor=int(data.get("amount_refunded") or 0), disputed_minor=None
            )
        else:
            await payments.take_back(
                payment, refunded_minor=None, disputed_minor=int(data.get("amount") or 0)
            )
        return ProviderEventStatus.PROCESSED, payment.id
    return ProviderEventStatus.IGNORED, None
