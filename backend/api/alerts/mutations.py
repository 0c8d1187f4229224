"""registerAlertWebhook, removeAlertWebhook."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from backend.api.alerts.payloads import AlertWebhookPayload
from backend.api.alerts.types import AlertWebhook
from backend.api.context import principal_of
from backend.api.errors import payload_or_user_errors
from backend.api.inputs import id_of
from backend.domain import access, alert_webhooks
from backend.domain.models import Role


@strawberry.type
class AlertMutations:
    @strawberry.mutation(description="POST every alert of the partner to `url`, signed.")
    async def register_alert_webhook(
        self, info: Info, partner_id: strawberry.ID, url: str
    ) -> AlertWebhookPayload:
        async def build() -> AlertWebhookPayload:
            access.require_role(principal_of(info), Role.ADMIN, Role.PARTNER)
            registered = await alert_webhooks.register(
                principal_of(info), partner_id=id_of(partner_id, "partnerId"), url=url
            )
            return AlertWebhookPayload(
                webhook=AlertWebhook.from_instance(registered.webhook), secret=registered.secret
            )

        return await payload_or_user_errors(AlertWebhookPayload, build)

    @strawberry.mutation
    async def remove_alert_webhook(
        self, info: Info, webhook_id: strawberry.ID
    ) -> AlertWebhookPayload:
        async def build() -> AlertWebhookPayload:
            access.require_role(principal_of(info), Role.ADMIN, Role.PARTNER)
            hook = await alert_webhooks.remove(
                principal_of(info), webhook_id=id_of(webhook_id, "webhookId")
            )
            return AlertWebhookPayload(webhook=AlertWebhook.from_instance(hook))

        return await payload_or_user_errors(AlertWebhookPayload, build)
