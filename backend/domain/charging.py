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

from backend.db import db_datetime, dialect_sql, is_postgres
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
from backend.domain.unit_of_work import transaction

USER_INITIATED_CATEGORIES = (ConversationCategory.SERVICE,)


class ChargeCache:
    """What stays the same across the statuses of one webhook request: read once."""

    def __init__(self) -> None:
        self.payers: dict[int, tuple[Wallet, Partner]] = {}
        self.books: dict[str, rates.PriceBook] = {}
        self.channels_with_holds: dict[int, bool] = {}

    async def payer(self, conn: BaseDBAsyncClient, channel: Channel) -> tuple[Wallet, Partner]:
        if channel.id not in self.payers:
            wallet = await Wallet.get(customer_id=channel.customer_id).using_db(conn)
            partner = await Partner.get(id=channel.partner_id).using_db(conn)
            self.payers[channel.id] = (wallet, partner)
        return self.payers[channel.id]

    def book(self, currency_code: str) -> rates.PriceBook:
        return self.books.setdefault(currency_code, rates.PriceBook(currency_code))

    async def has_holds(self, conn: BaseDBAsyncClient, channel_id: int) -> bool:
        if channel_id not in self.channels_with_holds:
            self.channels_with_holds[channel_id] = await holds.has_pending_shares(conn, channel_id)
        return self.channels_with_holds[channel_id]


@dataclass(frozen=True)
class Charge:
    conversation: Conversation
    entry: LedgerEntry | None
    duplicate: bool


def origin_for(category: ConversationCategory, opened_by_user: bool = False) -> ConversationOrigin:
    if opened_by_user or category in USER_INITIATED_CATEGORIES:
        return ConversationOrigin.USER_INITIATED
    return ConversationOrigin.BUSINESS_INITIATED


@dataclass(frozen=True)
class ChargeRequest:
    """One conversation to record, as Meta (or an integrator) reported it."""

    channel: Channel
    external_id: str
    category: ConversationCategory
    recipient: str
    pricing_model: PricingModel
    billable: bool
    opened_at: datetime
    opened_by_user: bool = False


async def check_priceable(
    conn: BaseDBAsyncClient, request: ChargeRequest, cache: ChargeCache
) -> None:
    """Raise ``NoRateCard`` if this request could not be priced (before any write)."""
    if not request.billable:
        return
    wallet, partner = await cache.payer(conn, request.channel)
    book = cache.book(wallet.currency_code)
    card = await book.card_at(request.opened_at)
    if card is None:
        raise rates.NoRateCard(
            f"No {wallet.currency_code} rate card is in force at {request.opened_at.isoformat()}."
        )
    country = rates.market_of(request.recipient)
    if await book.price(card, country, request.category, partner.markup_percent_micros) is None:
        raise rates.NoRateCard(
            f"The rate card has no {request.category} rate for {country or rates.ANY_MARKET}."
        )


async def _free_market(
    cache: ChargeCache, currency: str, request: ChargeRequest, country: str | None
) -> str | None:
    """The rate card's market for a free conversation, or None when no card says."""
    book = cache.book(currency)
    card = await book.card_at(request.opened_at)
    if card is None:
        return None
    price = await book.price(card, country, request.category, 0)
    return price.market if price is not None else None


async def charge(
    conn: BaseDBAsyncClient, request: ChargeRequest, cache: ChargeCache | None = None
) -> Charge:
    """Record and charge one conversation inside ``conn``'s transaction (once, ever)."""
    (result,) = await charge_many(conn, [request], cache or ChargeCache())
    return result


async def charge_many(
    conn: BaseDBAsyncClient, requests: list[ChargeRequest], cache: ChargeCache
) -> list[Charge]:
    """Record and charge a batch inside ``conn``'s transaction, each conversation once, ever.

    Prices come from the rate card in force when each conversation opened;
    a missing card or rate raises ``NoRateCard`` before anything is written.
    The batch claims its keys with one INSERT, posts one movement per wallet
    (``ledger.post_many``), and links the entries back with one UPDATE.
    """
    now = clock.now()
    priced: list[Conversation] = []
    for request in requests:
        channel = request.channel
        wallet, partner = await cache.payer(conn, channel)
        country = rates.market_of(request.recipient)
        price_micros, rate_id, market = 0, None, country or rates.ANY_MARKET
        if request.billable:
            book = cache.book(wallet.currency_code)
            card = await book.card_at(request.opened_at)
            if card is None:
                raise rates.NoRateCard(
                    f"No {wallet.currency_code} rate card is in force at "
                    f"{request.opened_at.isoformat()}."
                )
            price = await book.price(card, country, request.category, partner.markup_percent_micros)
            if price is None:
                raise rates.NoRateCard(
                    f"The rate card has no {request.category} rate for {market}."
                )
            price_micros, rate_id, market = price.micros, price.rate.id, price.market
        else:
            # Free, but labelled with the market its rate would come from, so a
            # statement groups a country under one name whatever the category.
            market = await _free_market(cache, wallet.currency_code, request, country) or market
        conversation = Conversation(
            channel_id=channel.id,
            customer_id=channel.customer_id,
            partner_id=channel.partner_id,
            wallet_id=wallet.id,
            external_id=request.external_id,
            category=request.category,
            origin=origin_for(request.category, request.opened_by_user),
            pricing_model=request.pricing_model,
            recipient=request.recipient,
            market=market,
            billable=request.billable,
            price_micros=price_micros,
            rate_id=rate_id,
            ledger_entry_id=None,
            opened_at=request.opened_at,
            created_at=now,
        )
        priced.append(conversation)

    claimed = await _claim(conn, priced)
    new: list[Conversation] = []  # the first of each key this batch claimed
    for conversation in priced:
        key = (conversation.channel_id, conversation.external_id)
        if (
            key in claimed
            and conversation.id is None
            and not any((n.channel_id, n.external_id) == key for n in new)
        ):
            conversation.id = claimed[key]
            conversation._saved_in_db = True
            new.append(conversation)

    # A broadcast reserved money for these recipients: each charge replaces its
    # reservation. Settled before the money moves, so locks go hold -> wallet
    # here as in releaseHold, and two of them cannot deadlock.
    for conversation in new:
        if conversation.origin == ConversationOrigin.BUSINESS_INITIATED and await cache.has_holds(
            conn, conversation.channel_id
        ):
            await holds.settle_share(
                conn,
                channel_id=conversation.channel_id,
                recipient=conversation.recipient,
                captured=True,
                settled_by=f"charge:{conversation.external_id}",
            )

    entries: dict[int, LedgerEntry] = {}
    by_wallet: dict[int, list[Conversation]] = {}
    for conversation in new:
        if conversation.price_micros > 0:
            by_wallet.setdefault(conversation.wallet_id, []).append(conversation)
    for wallet_id in sorted(by_wallet):  # wallets locked in key order
        batch = by_wallet[wallet_id]
        movements = await ledger.post_many(
            conn,
            wallet_id=wallet_id,
            lines=[
                ledger.Line(
                    -c.price_micros,
                    LedgerEntryKind.CONVERSATION_CHARGE,
                    f"{c.category.value.lower()} conversation with {c.recipient} ({c.market})",
                    c.external_id,
                )
                for c in batch
            ],
            policy=FundsPolicy.ALWAYS,  # the money was already spent at Meta
        )
        for conversation, movement in zip(batch, movements, strict=True):
            conversation.ledger_entry_id = movement.entry.id
            entries[conversation.id] = movement.entry
    await _link_entries(conn, [c for c in new if c.ledger_entry_id])

    results = []
    fresh = {id(conversation) for conversation in new}
    for conversation in priced:
        if id(conversation) in fresh:
            results.append(Charge(conversation, entries.get(conversation.id), duplicate=False))
            continue
        existing = await Conversation.get(
            channel_id=conversation.channel_id, external_id=conversation.external_id
        ).using_db(conn)
        entry = (
            await LedgerEntry.get(id=existing.ledger_entry_id).using_db(conn)
            if existing.ledger_entry_id
            else None
        )
        results.append(Charge(existing, entry, duplicate=True))
    return results


async def _claim(
    conn: BaseDBAsyncClient, conversations: list[Conversation]
) -> dict[tuple[int, str], int]:
    """Insert the conversations not yet known; their keys and new ids (the claim is the charge right)."""
    unique: dict[tuple[int, str], Conversation] = {}
    for conversation in conversations:
        unique.setdefault((conversation.channel_id, conversation.external_id), conversation)
    columns = (
        "channel_id, customer_id, partner_id, wallet_id, external_id, category, origin,"
        " pricing_model, recipient, market, billable, price_micros, rate_id, opened_at, created_at"
    )
    placeholders, values = [], []
    for n, c in enumerate(unique.values()):
        base = n * 15
        placeholders.append("(" + ", ".join(f"${base + k}" for k in range(1, 16)) + ")")
        values += [
            c.channel_id,
            c.customer_id,
            c.partner_id,
            c.wallet_id,
            c.external_id,
            c.category.value,
            c.origin.value,
            c.pricing_model.value,
            c.recipient,
            c.market,
            c.billable,
            c.price_micros,
            c.rate_id,
            db_datetime(conn, c.opened_at),
            db_datetime(conn, c.created_at),
        ]
    rows = await conn.execute_query_dict(
        dialect_sql(
            conn,
            f"INSERT INTO conversations ({columns}) VALUES {', '.join(placeholders)}"
            " ON CONFLICT (channel_id, external_id) DO NOTHING"
            " RETURNING id, channel_id, external_id",
        ),
        values,
    )
    return {(row["channel_id"], row["external_id"]): row["id"] for row in rows}


async def _link_entries(conn: BaseDBAsyncClient, conversations: list[Conversation]) -> None:
    """Each charged conversation points at its ledger entry: one UPDATE for the batch."""
    if not conversations:
        return
    # PostgreSQL cannot infer a type for parameters that only appear in a CASE.
    cast = "::bigint" if is_postgres(conn) else ""
    cases, values = [], []
    for n, c in enumerate(conversations):
        cases.append(f"WHEN ${2 * n + 1}{cast} THEN ${2 * n + 2}{cast}")
        values += [c.id, c.ledger_entry_id]
    ids = ", ".join(f"${2 * n + 1}{cast}" for n in range(len(conversations)))
    await conn.execute_query(
        dialect_sql(
            conn,
            f"UPDATE conversations SET ledger_entry_id = CASE id {' '.join(cases)} END"
            f" WHERE id IN ({ids})",
        ),
        values,
    )


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
    async with transaction() as conn:
        return await charge(
            conn,
            ChargeRequest(
                channel=channel,
                external_id=key,
                category=category,
                recipient=number,
                pricing_model=pricing_model or PricingModel.PMP,
                billable=True if billable is None else billable,
                opened_at=when,
            ),
        )


def visible_conversations(principal: Principal):
    if principal.role == Role.ADMIN:
        return Conversation.all()
    if principal.role == Role.PARTNER:
        return Conversation.filter(partner_id=principal.partner_id)
    return Conversation.filter(customer_id=principal.customer_id)
