"""Payloads of the alert-webhook mutations."""

from __future__ import annotations

import strawberry

from backend.api.alerts.types import AlertWebhook
from backend.api.errors import UserError


@strawberry.type
class AlertWebhookPayload:
    webhook: AlertWebhook | None = None
    secret: str | None = strawberry.field(
        default=None,
        description="Signs every POST (X-Daybook-Signature: sha256=HMAC); shown at registration only.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)
