"""Who pays for a channel's conversations: the channel, its customer's wallet, the partner's markup.

One query reads it all (``payer_sql``), once per unit of work; charging and
broadcast holds both start from it, so it lives apart from either.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from backend.db import dialect_sql
from backend.domain import rates


@dataclass(frozen=True, slots=True)
class Payer:
    """Who pays for a channel's conversations, read once per unit of work (a webhook request)."""

    channel_id: int
    customer_id: int
    partner_id: int
    wallet_id: int
    currency_code: str
    markup_percent_micros: int
    # Whether a broadcast still reserves money on this channel (else no share to settle).
    has_holds: bool
    # The rate cards of the wallet's currency as the same read saw them (rates.stamp_of).
    card_stamp: rates.CardStamp | None = None


_PAYER_SQL = (
    "SELECT c.id AS channel_id, c.phone_number_id, c.customer_id, c.partner_id, w.id AS wallet_id,"
    " w.currency_code, p.markup_percent_micros,"
    " EXISTS (SELECT 1 FROM hold_recipients h WHERE h.channel_id = c.id"
    " AND h.state = 'PENDING') AS has_holds,"
    " (SELECT count(*) FROM rate_cards r WHERE r.currency_code = w.currency_code) AS card_count,"
    " (SELECT max(r.id) FROM rate_cards r WHERE r.currency_code = w.currency_code) AS card_top"
    " FROM channels c JOIN wallets w ON w.customer_id = c.customer_id"
    " JOIN partners p ON p.id = c.partner_id"
)


def payer_sql(where: str) -> str:
    """The one query that reads a channel's payer, with a WHERE clause on ``channels c``."""
    return f"{_PAYER_SQL} WHERE {where}"


def payer_of(row: dict) -> Payer:
    return Payer(
        channel_id=row["channel_id"],
        customer_id=row["customer_id"],
        partner_id=row["partner_id"],
        wallet_id=row["wallet_id"],
        currency_code=row["currency_code"],
        markup_percent_micros=row["markup_percent_micros"],
        has_holds=bool(row["has_holds"]),
        card_stamp=rates.stamp_of(row["card_count"], row["card_top"]),
    )


async def payer_for_channel(conn: BaseDBAsyncClient, channel_id: int) -> Payer:
    rows = await conn.execute_query_dict(dialect_sql(conn, payer_sql("c.id = $1")), [channel_id])
    return payer_of(rows[0])
