"""Alerts, and the partner's webhooks they are POSTed to."""

from __future__ import annotations

from datetime import datetime

import strawberry

from backend.api.pagination import Connection, fetch_page, to_connection
from backend.domain import models

AlertKind = strawberry.enum(models.AlertKind)
DeliveryStatus = strawberry.enum(models.DeliveryStatus)


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
