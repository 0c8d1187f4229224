"""What each kind of change tells its subscribers: events built from the rows that changed.

Every event carries whole rows (the wallet and its new entry, the partner and
its day entry, the channel, the alert), made JSON-safe here, so that neither
this worker nor any other reads the database to deliver it (Redis carries the
same dict). Building an event never queries anything: the caller already has
the rows, usually from the statement that changed them.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from backend.events import topics
from backend.events.bus import Event

Row = dict[str, Any]

# Columns never carried by an event (they would travel through Redis to every
# worker): a partner's WhatsApp app secret and verify token.
SECRET_COLUMNS = frozenset({"whatsapp_app_secret", "whatsapp_verify_token"})


def json_safe(row: Row) -> Row:
    """The row as Redis will carry it: datetimes as ISO text, enums as their values, no secrets."""
    safe: Row = {}
    for column, value in row.items():
        if column in SECRET_COLUMNS:
            value = None
        elif isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, Enum):
            value = value.value
        safe[column] = value
    return safe


def balance_moved(*, wallet: Row, partner_id: int, entry: Row) -> Event:
    return Event(
        topics.BALANCE,
        (
            topics.wallet(wallet["id"]),
            topics.partner(partner_id, topics.BALANCE),
            topics.customer(wallet["customer_id"], topics.BALANCE),
        ),
        {"wallet": json_safe(wallet), "entry": json_safe(entry)},
    )


def days_moved(*, partner: Row, entry: Row) -> Event:
    return Event(
        topics.DAYS,
        (topics.partner(partner["id"], topics.DAYS),),
        {"partner": json_safe(partner), "entry": json_safe(entry)},
    )


def channel_changed(*, channel: Row) -> Event:
    return Event(
        topics.CHANNEL,
        (
            topics.channel(channel["id"]),
            topics.partner(channel["partner_id"], topics.CHANNEL),
            topics.customer(channel["customer_id"], topics.CHANNEL),
        ),
        {"channel": json_safe(channel)},
    )


def alert_changed(*, alert: Row) -> Event:
    audience = []
    if alert.get("partner_id") is not None:
        audience.append(topics.partner(alert["partner_id"], topics.ALERT))
    if alert.get("customer_id") is not None:
        audience.append(topics.customer(alert["customer_id"], topics.ALERT))
    return Event(topics.ALERT, tuple(audience), {"alert": json_safe(alert)})


def control(topic: str, **data: Any) -> Event:
    """Tell every worker to drop a cache (``topics.API_KEY_REVOKED``, ``topics.RATE_CARDS_CHANGED``)."""
    return Event("control", (topic,), data)
