"""``/webhooks/whatsapp/{partnerId}``: Meta's verification handshake and signed event POSTs.

A POST is checked (size, then ``X-Hub-Signature-256`` = HMAC-SHA256 of the
raw body with the partner's app secret, stored encrypted and opened here with
``backend.secret_box``; compared in constant time), stored,
and only then processed and answered 200. A bad signature is refused with 401
and stored nowhere.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from backend.db import fetch_row
from backend.domain.models import WebhookEventStatus
from backend.secret_box import SecretUnreadable, open_sealed
from backend.webhooks import processing
from backend.webhooks.bodies import read_body

log = logging.getLogger("daybook.webhooks")

MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class _Partner:
    id: int
    app_secret: str
    verify_token: str | None


async def _partner(request: Request) -> _Partner | None:
    """The partner of the URL, if its webhook is configured (one plain query: every POST asks)."""
    raw = request.path_params["partner_id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return None
    row = await fetch_row(
        "SELECT id, whatsapp_app_secret, whatsapp_verify_token FROM partners WHERE id = $1",
        [int(raw)],
    )
    if row is None or not row["whatsapp_app_secret"]:
        return None
    try:
        app_secret = open_sealed(row["whatsapp_app_secret"])
    except SecretUnreadable:
        # Answered as an unknown partner; the operator sees why (a key was dropped too soon).
        log.error("partner %s: the stored app secret cannot be decrypted", row["id"])
        return None
    return _Partner(row["id"], app_secret, row["whatsapp_verify_token"])


async def verify(request: Request) -> Response:
    """Meta's subscription handshake: echo ``hub.challenge`` for the right verify token."""
    partner = await _partner(request)
    params = request.query_params
    token = params.get("hub.verify_token", "")
    if (
        partner is None
        or params.get("hub.mode") != "subscribe"
        or not partner.verify_token
        or not hmac.compare_digest(token.encode(), partner.verify_token.encode())
    ):
        return PlainTextResponse("verification failed", status_code=403)
    return PlainTextResponse(params.get("hub.challenge", ""))


def signature_of(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def _refused() -> JSONResponse:
    """One answer for an unknown partner and a bad signature: neither tells the other apart."""
    return JSONResponse({"error": "signature check failed"}, status_code=401)


async def receive(request: Request) -> Response:
    partner = await _partner(request)
    if partner is None:
        return _refused()
    body = await read_body(request, MAX_BODY_BYTES)
    if body is None:
        return JSONResponse({"error": "body over 1 MiB"}, status_code=413)
    given = request.headers.get("x-hub-signature-256", "")
    if not hmac.compare_digest(given.encode(), signature_of(body, partner.app_secret).encode()):
        return _refused()
    # Parsed once: the payer lookup rides with the INSERT that stores the event.
    payload = processing.parse_body(body)
    # Stored as text: bytes that are not UTF-8, and a raw NUL (no database text
    # column takes it, and no JSON has one), are kept as U+FFFD. Such a body
    # is malformed JSON, so it is a dead letter; it is still kept, as rule 5 says.
    text = body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    event_id, payers = await processing.store(partner.id, text, payload)
    processed = await processing.process_stored(event_id, partner.id, payload, payers, 0)
    answer: dict[str, object] = {"event": event_id, "status": processed.status.value}
    if processed.error and processed.status == WebhookEventStatus.DEAD:
        # Why Meta's body could not be applied; a failure of ours (kept PENDING,
        # retried later) is never shown to the caller.
        answer["error"] = processed.error
    return JSONResponse(answer)
