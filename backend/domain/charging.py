"""Charging conversations to the customer's wallet: exactly once, at the card's price.

One function, ``charge``, serves the webhook and ``recordConversation``. The
conversation row is unique per ``(channel, external_id)`` and inserted with
ON CONFLICT DO NOTHING in the same transaction as the ledger movement, so a
retried, duplicated, reordered or concurrent delivery charges once. A charge
is posted even past the credit limit: the money was already spent at Meta.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from backend.db import db_datetime, dialect_sql, model_from_row
from backend.domain import access, holds, ledger, rates, validation
from backend.domain.access import Principal
from backend.domain.channels import InvalidPhoneNumber, get_channel, normalise_phone_number
from backend.domain.clock import clock
from backend.domain.errors import InvalidArgument
from backend.domain.ledger import FundsPolicy
from backend.domain.models import (
    Channel,
    Conversation,
    ConversationCategory,
    ConversationOrigin,
    LedgerEntry,
    LedgerEntryKind,
    Partner,
    PricingModel,
    Role,
    Wallet,
)

USER_INITIATED_CATEGORIES = (ConversationCategory.SERVICE,)


@dataclass(frozen=True)
class Charge:
    conversation: Conversation
    entry: LedgerEntry | None
    duplicate: bool


def origin_for(category: ConversationCategory, opened_by_user: bool = False) -> ConversationOrigin:
    if opened_by_user or category in USER_INITIATED_CATEGORIES:
        return ConversationOrigin.USER_INITIATED
    return ConversationOrigin.BUSINESS_INITIATED


async def charge(
    conn: BaseDBAsyncClient,
    *,
    channel: Channel,
    external_id: str,
    category: ConversationCategory,
    recipient: str,
    pricing_model: PricingModel,
    billable: bool,
    opened_at: datetime,
    opened_by_user: bool = False,
) -> Charge:
    """Record and charge one conversation inside ``conn``'s transaction (once, ever)."""
    wallet = await Wallet.get(customer_id=channel.customer_id).using_db(conn)
    partner = await Partner.get(id=channel.partner_id).using_db(conn)
    country = rates.market_of(recipient)
    price_micros, rate_id, market = 0, None, country or rates.ANY_MARKET
    if billable:
        card = await rates.card_in_force(wallet.currency_code, opened_at)
        if card is None:
            raise rates.NoRateCard(
                f"No {wallet.currency_code} rate card is in force at {opened_at.isoformat()}."
            )
        price = await rates.price_for(card, country, category, partner.markup_percent_micros)
        if price is None:
            raise rates.NoRateCard(f"The rate card has no {category} rate for {market}.")
        price_micros, rate_id, market = price.micros, price.rate.id, price.market
    now = clock.now()
    inserted = await conn.execute_query_dict(
        dialect_sql(
            conn,
            "INSERT INTO conversations (channel_id, customer_id, partner_id, wallet_id,"
            " external_id, category, origin, pricing_model, recipient, market, billable,"
            " price_micros, rate_id, opened_at, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
            " ON CONFLICT (channel_id, external_id) DO NOTHING RETURNING id",
        ),
        [
            channel.id,
            channel.customer_id,
            channel.partner_id,
            wallet.id,
            external_id,
            category.value,
            origin_for(category, opened_by_user).value,
            pricing_model.value,
            recipient,
            market,
            billable,
            price_micros,
            rate_id,
            db_datetime(conn, opened_at),
            db_datetime(conn, now),
        ],
    )
    if not inserted:
        existing = await Conversation.get(channel_id=channel.id, external_id=external_id).using_db(
            conn
        )
        entry = (
            await LedgerEntry.get(id=existing.ledger_entry_id).using_db(conn)
            if existing.ledger_entry_id
            else None
        )
        return Charge(existing, entry, duplicate=True)
    conversation_id = inserted[0]["id"]
    entry = None
    if price_micros > 0:
        movement = await ledger.post(
            conn,
            wallet_id=wallet.id,
            amount_micros=-price_micros,
            kind=LedgerEntryKind.CONVERSATION_CHARGE,
            policy=FundsPolicy.ALWAYS,
            comment=f"{category.value.lower()} conversation with {recipient} ({market})",
            reference=external_id,
        )
        entry = movement.entry
        await conn.execute_query(
            dialect_sql(conn, "UPDATE conversations SET ledger_entry_id = $1 WHERE id = $2"),
            [entry.id, conversation_id],
        )
    # A broadcast reserved money for this recipient: the charge replaces the reservation.
    await holds.settle_share(conn, channel_id=channel.id, recipient=recipient, captured=True)
    rows = await conn.execute_query_dict(
        dialect_sql(conn, "SELECT * FROM conversations WHERE id = $1"), [conversation_id]
    )
    return Charge(model_from_row(Conversation, rows[0]), entry, duplicate=False)


async def record_conversation(
    principal: Principal,
    *,
    channel_id: str,
    external_id: str,
    category: ConversationCategory,
    recipient: str,
    pricing_model: PricingModel | None = None,
    billable: bool | None = None,
    opened_at: datetime | None = None,
) -> Charge:
    """``recordConversation``: the webhook's rules for integrators who report usage themselves."""
    access.require_role(principal, Role.ADMIN, Role.PARTNER)
    channel = await get_channel(principal, channel_id)
    key = (external_id or "").strip()
    if not key or len(key) > 200:
        raise InvalidArgument("externalId is 1 to 200 characters.", field="externalId")
    try:
        number = normalise_phone_number(recipient)
    except InvalidPhoneNumber as error:
        error.field = ["recipient"]
        raise
    when = opened_at or clock.now()
    if when.tzinfo is None:
        raise InvalidArgument("openedAt needs a UTC offset.", field="openedAt")
    validation.name(key, field="externalId")
    async with in_transaction() as conn:
        return await charge(
            conn,
            channel=channel,
            external_id=key,
            category=category,
            recipient=number,
            pricing_model=pricing_model or PricingModel.PMP,
            billable=True if billable is None else billable,
            opened_at=when,
        )


def visible_conversations(principal: Principal):
    if principal.role == Role.ADMIN:
        return Conversation.all()
    if principal.role == Role.PARTNER:
        return Conversation.filter(partner_id=principal.partner_id)
    return Conversation.filter(customer_id=principal.customer_id)
