"""``/webhooks/whatsapp/{partnerId}``: Meta's verification handshake and signed event POSTs.

A POST is checked (size, then ``X-Hub-Signature-256`` = HMAC-SHA256 of the
raw body with the partner's app secret, compared in constant time), stored,
and only then processed and answered 200. A bad signature is refused with 401
and stored nowhere.
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from backend.domain.clock import clock
from backend.domain.models import Partner, WebhookEvent, WebhookEventStatus
from backend.webhooks import processing

MAX_BODY_BYTES = 1024 * 1024


async def _partner(request: Request) -> Partner | None:
    raw = request.path_params["partner_id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return None
    partner = await Partner.get_or_none(id=int(raw))
    if partner is None or not partner.whatsapp_app_secret:
        return None
    return partner


async def verify(request: Request) -> Response:
    """Meta's subscription handshake: echo ``hub.challenge`` for the right verify token."""
    partner = await _partner(request)
    params = request.query_params
    token = params.get("hub.verify_token", "")
    if (
        partner is None
        or params.get("hub.mode") != "subscribe"
        or not partner.whatsapp_verify_token
        or not hmac.compare_digest(token.encode(), partner.whatsapp_verify_token.encode())
    ):
        return PlainTextResponse("verification failed", status_code=403)
    return PlainTextResponse(params.get("hub.challenge", ""))


def signature_of(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


async def _read_body(request: Request) -> bytes | None:
    """The raw body, or None when it is over the limit (checked while reading)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def receive(request: Request) -> Response:
    partner = await _partner(request)
    if partner is None:
        return JSONResponse({"error": "unknown webhook"}, status_code=404)
    body = await _read_body(request)
    if body is None:
        return JSONResponse({"error": "body over 1 MiB"}, status_code=413)
    given = request.headers.get("x-hub-signature-256", "")
    if not hmac.compare_digest(
        given.encode(), signature_of(body, partner.whatsapp_app_secret).encode()
    ):
        return JSONResponse({"error": "bad signature"}, status_code=401)
    now = clock.now()
    event = await WebhookEvent.create(
        partner_id=partner.id,
        body=body.decode("utf-8", errors="replace"),
        status=WebhookEventStatus.PENDING,
        received_at=now,
        # If this worker dies before processing finishes, the jobs loop picks it up.
        next_attempt_at=now + processing.ABANDONED_AFTER,
    )
    processed = await processing.process(event.id)
    answer = {"event": event.id, "status": processed.status}
    if processed.last_error:
        answer["error"] = processed.last_error
    return JSONResponse(answer)
