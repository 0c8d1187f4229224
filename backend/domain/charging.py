"""Charging conversations to the customer's wallet: exactly once, at the card's price.

One path (``price`` then ``charge_many``) serves the webhook and
``recordConversation``; prices come from ``pricing.quote``. The
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
from backend.domain import access, holds, ledger, pricing, rates
from backend.domain.access import Principal
from backend.domain.channels import get_channel
from backend.domain.clock import clock
from backend.domain.ledger import FundsPolicy
from backend.domain.models import (
    Conversation,
    ConversationCategory,
    ConversationOrigin,
    LedgerEntry,
    LedgerEntryKind,
    PricingModel,
    Role,
)
from backend.domain.payers import Payer, payer_for_channel
from backend.domain.unit_of_work import transaction

USER_INITIATED_CATEGORIES = (ConversationCategory.SERVICE,)


def origin_for(category: ConversationCategory, opened_by_user: bool = False) -> ConversationOrigin:
    if opened_by_user or category in USER_INITIATED_CATEGORIES:
        return ConversationOrigin.USER_INITIATED
    return ConversationOrigin.BUSINESS_INITIATED


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    """One conversation to record, as Meta (or an integrator) reported it."""

    payer: Payer
    external_id: str
    category: ConversationCategory
    recipient: pricing.Recipient
    pricing_model: PricingModel
    billable: bool
    opened_at: datetime
    opened_by_user: bool = False


@dataclass(slots=True)
class Priced:
    """A request with its price: a conversation row ready to be claimed."""

    request: ChargeRequest
    quote: pricing.Quote
    origin: ConversationOrigin
    id: int | None = None  # set when this batch claimed its key
    entry: LedgerEntry | None = None

    @property
    def key(self) -> tuple[int, str]:
        return (self.request.payer.channel_id, self.request.external_id)


@dataclass(frozen=True, slots=True)
class Charged:
    """What charging did with one request: claimed and charged (or free), or a duplicate."""

    priced: Priced
    duplicate: bool


async def price(conn: BaseDBAsyncClient, request: ChargeRequest) -> Priced:
    """Price one request from the rate card in force when it opened (``NoRateCard`` if none).

    Cards come from the per-process cache (``rates.cards_of``); nothing is written.
    """
    payer = request.payer
    book = await rates.cards_of(conn, payer.currency_code, payer.card_stamp)
    card = await book.card_at(conn, request.opened_at)
    quote = pricing.quote(
        card,
        request.recipient.country,
        request.category,
        payer.markup_percent_micros,
        billable=request.billable,
        currency_code=payer.currency_code,
        at=request.opened_at,
    )
    return Priced(request, quote, origin_for(request.category, request.opened_by_user))


async def charge_many(
    conn: BaseDBAsyncClient, batch: list[Priced], *, link: bool = True
) -> tuple[list[Charged], list[tuple[int, int]]]:
    """Record and charge priced conversations inside ``conn``'s transaction, each once, ever.

    The batch claims its keys with one INSERT, posts one movement per wallet
    (``ledger.post_many``), and points each charged conversation at its entry.
    Returns what happened to each, and the (conversation id, entry id) links;
    with ``link=False`` the caller writes those links itself, in the same
    transaction (the webhook folds them into its last statement).
    """
    claimed = await _claim(conn, batch)
    fresh: list[Priced] = []  # the first of each key this batch claimed
    for item in batch:
        conversation_id = claimed.pop(item.key, None)
        if conversation_id is not None:
            item.id = conversation_id
            fresh.append(item)

    # A broadcast reserved money for these recipients: each charge replaces its
    # reservation. Settled before the money moves, so locks go hold -> wallet
    # here as in releaseHold, and two of them cannot deadlock.
    for item in fresh:
        request = item.request
        if item.origin == ConversationOrigin.BUSINESS_INITIATED and request.payer.has_holds:
            await holds.settle_share(
                conn,
                channel_id=request.payer.channel_id,
                recipient=request.recipient.e164,
                captured=True,
                settled_by=f"charge:{request.external_id}",
            )

    by_wallet: dict[int, list[Priced]] = {}
    for item in fresh:
        if item.quote.micros > 0:
            by_wallet.setdefault(item.request.payer.wallet_id, []).append(item)
    links: list[tuple[int, int]] = []
    for wallet_id in sorted(by_wallet):  # wallets locked in key order
        charged = by_wallet[wallet_id]
        movements = await ledger.post_many(
            conn,
            wallet_id=wallet_id,
            lines=[
                ledger.Line(
                    -item.quote.micros,
                    LedgerEntryKind.CONVERSATION_CHARGE,
                    f"{item.request.category.value.lower()} conversation with"
                    f" {item.request.recipient.e164} ({item.quote.market})",
                    item.request.external_id,
                )
                for item in charged
            ],
            policy=FundsPolicy.ALWAYS,  # the money was already spent at Meta
        )
        for item, movement in zip(charged, movements, strict=True):
            item.entry = movement.entry
            links.append((item.id, movement.entry.id))
    if link:
        await link_entries(conn, links)
    fresh_ids = {id(item) for item in fresh}
    return [Charged(item, duplicate=id(item) not in fresh_ids) for item in batch], links


async def _claim(conn: BaseDBAsyncClient, batch: list[Priced]) -> dict[tuple[int, str], int]:
    """Insert the conversations not yet known; their keys and new ids (the claim is the charge right)."""
    unique: dict[tuple[int, str], Priced] = {}
    for item in batch:
        unique.setdefault(item.key, item)
    if not unique:
        return {}
    columns = (
        "channel_id, customer_id, partner_id, wallet_id, external_id, category, origin,"
        " pricing_model, recipient, market, billable, price_micros, rate_id, opened_at, created_at"
    )
    now = db_datetime(conn, clock.now())
    placeholders, values = [], []
    for n, item in enumerate(unique.values()):
        request, payer = item.request, item.request.payer
        base = n * 15
        placeholders.append("(" + ", ".join(f"${base + k}" for k in range(1, 16)) + ")")
        values += [
            payer.channel_id,
            payer.customer_id,
            payer.partner_id,
            payer.wallet_id,
            request.external_id,
            request.category.value,
            item.origin.value,
            request.pricing_model.value,
            request.recipient.e164,
            item.quote.market,
            request.billable,
            item.quote.micros,
            item.quote.rate_id,
            db_datetime(conn, request.opened_at),
            now,
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


def link_statement(
    conn: BaseDBAsyncClient, links: list[tuple[int, int]], first: int = 1
) -> tuple[str, list[int]]:
    """The UPDATE pointing each conversation at its ledger entry; parameters from ``$first``."""
    # PostgreSQL cannot infer a type for parameters that only appear in a CASE.
    cast = "::bigint" if is_postgres(conn) else ""
    cases, values = [], []
    for n, (conversation_id, entry_id) in enumerate(links):
        cases.append(f"WHEN ${first + 2 * n}{cast} THEN ${first + 2 * n + 1}{cast}")
        values += [conversation_id, entry_id]
    ids = ", ".join(f"${first + 2 * n}{cast}" for n in range(len(links)))
    return (
        f"UPDATE conversations SET ledger_entry_id = CASE id {' '.join(cases)} END"
        f" WHERE id IN ({ids})",
        values,
    )


async def link_entries(conn: BaseDBAsyncClient, links: list[tuple[int, int]]) -> None:
    """Each charged conversation points at its ledger entry: one UPDATE for the batch."""
    if not links:
        return
    sql, values = link_statement(conn, links)
    await conn.execute_query(dialect_sql(conn, sql), values)


@dataclass(frozen=True)
class Charge:
    """``recordConversation``'s answer: the conversation as stored, and its entry if charged now."""

    conversation: Conversation
    entry: LedgerEntry | None
    duplicate: bool


async def record_conversation(
    principal: Principal,
    *,
    channel_id: int,
    external_id: str,
    category: ConversationCategory,
    recipient: str,
    pricing_model: PricingModel = PricingModel.PMP,
    billable: bool = True,
    opened_at: datetime | None = None,
) -> Charge:
    """``recordConversation``: the webhook's rules for integrators who report usage themselves.

    Takes domain values: ``recipient`` already validated as E.164 and
    ``external_id`` as a key (the API layer parses both and names the fields).
    A duplicate answers the conversation stored first, with its entry.
    """
    access.require_role(principal, Role.ADMIN, Role.PARTNER)
    channel = await get_channel(principal, channel_id)
    when = opened_at or clock.now()
    async with transaction() as conn:
        payer = await payer_for_channel(conn, channel.id)
        request = ChargeRequest(
            payer=payer,
            external_id=external_id,
            category=category,
            recipient=pricing.recipient(recipient),
            pricing_model=pricing_model,
            billable=billable,
            opened_at=when,
        )
        ((result,), _) = await charge_many(conn, [await price(conn, request)])
        stored = await Conversation.get(channel_id=channel.id, external_id=external_id).using_db(
            conn
        )
        entry = result.priced.entry
        if result.duplicate and stored.ledger_entry_id:
            entry = await LedgerEntry.get(id=stored.ledger_entry_id).using_db(conn)
        return Charge(stored, entry, result.duplicate)


def visible_conversations(principal: Principal):
    if principal.role == Role.ADMIN:
        return Conversation.all()
    if principal.role == Role.PARTNER:
        return Conversation.filter(partner_id=principal.partner_id)
    return Conversation.filter(customer_id=principal.customer_id)
