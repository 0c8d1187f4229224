"""What each kind of change tells subscribers: the events domain code records.

Topics name who may listen: the object itself (``wallet:7``), its partner
(``partner:3:balance``) and its customer (``customer:9:balance``); ADMIN
streams listen to ``<kind>:*``. A customer's partner never changes, so that
mapping is cached for the life of the process.
"""

from __future__ import annotations

from backend.db import connection, dialect_sql
from backend.events.bus import Event
from backend.events.outbox import record

_partner_of_customer: dict[int, int] = {}


async def partner_of(customer_id: int) -> int:
    if customer_id not in _partner_of_customer:
        conn = connection()
        rows = await conn.execute_query_dict(
            dialect_sql(conn, "SELECT partner_id FROM customers WHERE id = $1"), [customer_id]
        )
        _partner_of_customer[customer_id] = rows[0]["partner_id"]
    return _partner_of_customer[customer_id]


async def balance_moved(*, wallet_id: int, customer_id: int, entry_id: int) -> None:
    partner_id = await partner_of(customer_id)
    record(
        Event(
            "balance",
            (
                f"wallet:{wallet_id}",
                f"partner:{partner_id}:balance",
                f"customer:{customer_id}:balance",
            ),
            {"wallet_id": wallet_id, "entry_id": entry_id},
        )
    )


def days_moved(*, partner_id: int, entry_id: int) -> None:
    record(
        Event(
            "days",
            (f"partner:{partner_id}:days",),
            {"partner_id": partner_id, "entry_id": entry_id},
        )
    )


def channel_changed(*, channel_id: int, partner_id: int, customer_id: int) -> None:
    record(
        Event(
            "channel",
            (
                f"channel:{channel_id}",
                f"partner:{partner_id}:channel",
                f"customer:{customer_id}:channel",
            ),
            {"channel_id": channel_id},
        )
    )


def alert_changed(*, alert_id: int, partner_id: int | None, customer_id: int | None) -> None:
    topics = []
    if partner_id is not None:
        topics.append(f"partner:{partner_id}:alert")
    if customer_id is not None:
        topics.append(f"customer:{customer_id}:alert")
    record(Event("alert", tuple(topics), {"alert_id": alert_id}))
