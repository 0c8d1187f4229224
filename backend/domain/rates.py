"""Rate cards: the only source of conversation prices (Meta's webhooks carry none).

Each import is a whole, versioned card; the card in force at time t is the
one with the latest ``effective_from <= t``. A recipient's price is looked up
by its market: its country's ISO code, then its Meta region ("Rest of
Western Europe", ...), then ``*``; the partner's markup goes on top,
half-even at 6 places.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import pycountry
from tortoise.backends.base.client import BaseDBAsyncClient

from backend.db import dialect_sql
from backend.domain import access, unit_of_work, validation
from backend.domain.access import Principal
from backend.domain.clock import clock
from backend.domain.errors import (
    InvalidAmount,
    InvalidArgument,
    InvalidRateCard,
)
from backend.domain.models import ConversationCategory, Rate, RateCard, Role
from backend.domain.money import MICROS_PER_UNIT, decimal_to_micros, micros_to_decimal, parse_amount
from backend.domain.unit_of_work import transaction
from backend.events import changes, topics

DATA = Path(__file__).resolve().parent.parent / "data"
ANY_MARKET = "*"
MAX_RATE_MICROS = 1000 * MICROS_PER_UNIT


@lru_cache(maxsize=1)
def country_regions() -> dict[str, str]:
    """ISO alpha-2 -> Meta pricing region, for countries that are not markets of their own."""
    path = DATA / "meta_regions.csv"
    if not path.exists():
        return {}
    with path.open(newline="") as handle:
        return {
            row["country"].strip().upper(): row["region"].strip() for row in csv.DictReader(handle)
        }


def known_regions() -> set[str]:
    return set(country_regions().values())


def parse_category(text: str) -> ConversationCategory | None:
    """Meta's and our spellings alike: ``authentication-international``, ``AUTHENTICATION_INTERNATIONAL``."""
    key = (text or "").strip().upper().replace("-", "_").replace(" ", "_")
    return ConversationCategory.__members__.get(key)


def market_candidates(country: str | None) -> list[str]:
    """Where to look in a card, most specific first."""
    candidates = []
    if country:
        candidates.append(country)
        region = country_regions().get(country)
        if region:
            candidates.append(region)
    candidates.append(ANY_MARKET)
    return candidates


def with_markup(rate_micros: int, markup_percent_micros: int) -> int:
    factor = 1 + micros_to_decimal(markup_percent_micros) / 100
    return decimal_to_micros(micros_to_decimal(rate_micros) * factor)


# ---- the per-process cache of rate cards -------------------------------------
#
# A card and its rates never change once imported; only new cards appear. So
# each process keeps what it has read: the cards of a currency (id and
# effective date) and each card's rates, loaded the first time a price needs
# them. ``importRateCard`` drops the cache after its commit (and records a
# RATE_CARDS_CHANGED control event so that every worker drops its own); the
# webhook path also reads a stamp of the cards table (count and highest id per
# currency) in a query it makes anyway, so a card imported by another worker is
# seen on the next request even before that event arrives.

CardStamp = tuple[int, int]  # (number of cards, highest card id) of one currency


@dataclass(frozen=True, slots=True)
class CardRate:
    id: int
    price_micros: int


@dataclass(slots=True)
class Card:
    """One imported card; ``rates`` is None until a price first needs them."""

    id: int
    currency_code: str
    effective_from: datetime
    rates: dict[tuple[str, ConversationCategory], CardRate] | None = None


class _CardCache:
    def __init__(self) -> None:
        # The database the cache was filled from: a process that re-initialises
        # its connections (the test suite, ``daybook migrate`` then ``serve``
        # in one process) may be looking at another database with the same ids.
        self.owner: object | None = None
        self.cards: dict[str, list[Card]] = {}  # newest first
        self.stamps: dict[str, CardStamp] = {}
        self.rates: dict[int, dict[tuple[str, ConversationCategory], CardRate]] = {}

    def check_owner(self, conn: BaseDBAsyncClient) -> None:
        # A transaction is a wrapper around the database client: the client is
        # what lives as long as the connections do (a new one after each init).
        current: object = conn
        while (parent := getattr(current, "_parent", None)) is not None and parent is not current:
            current = parent
        if current is not self.owner:
            self.clear()
            self.owner = current

    def clear(self) -> None:
        self.cards.clear()
        self.stamps.clear()
        self.rates.clear()


_cache = _CardCache()


def drop_cached_cards() -> None:
    """Forget every cached card and rate (a card was imported, here or on another worker)."""
    _cache.clear()


_STAMP_SQL = "SELECT count(*) AS n, max(id) AS top FROM rate_cards WHERE currency_code = $1"


def stamp_of(count: int | None, top: int | None) -> CardStamp:
    return (int(count or 0), int(top or 0))


async def cards_of(
    conn: BaseDBAsyncClient, currency_code: str, stamp: CardStamp | None = None
) -> CardBook:
    """The cards of a currency, from the cache when it is current.

    ``stamp`` is the cards table as the caller read it (``stamp_of``); without
    one it is read here, one small query, so that a path that cannot fold it
    into a query of its own still sees cards imported by other workers.
    """
    _cache.check_owner(conn)
    if stamp is None:
        rows = await conn.execute_query_dict(dialect_sql(conn, _STAMP_SQL), [currency_code])
        stamp = stamp_of(rows[0]["n"], rows[0]["top"])
    if _cache.stamps.get(currency_code) != stamp or currency_code not in _cache.cards:
        cards = (
            await RateCard.filter(currency_code=currency_code)
            .using_db(conn)
            .order_by("-effective_from", "-id")
        )
        _cache.cards[currency_code] = [
            Card(card.id, card.currency_code, card.effective_from) for card in cards
        ]
        _cache.stamps[currency_code] = stamp
    return CardBook(currency_code, _cache.cards[currency_code])


class CardBook:
    """The cards of one currency, newest first; a card's rates are loaded once per process."""

    def __init__(self, currency_code: str, cards: list[Card]) -> None:
        self.currency_code = currency_code
        self.cards = cards

    async def card_at(self, conn: BaseDBAsyncClient, at: datetime) -> Card | None:
        card = next((card for card in self.cards if card.effective_from <= at), None)
        if card is not None and card.rates is None:
            card.rates = _cache.rates.get(card.id)
            if card.rates is None:
                rows = await conn.execute_query_dict(
                    dialect_sql(
                        conn,
                        "SELECT id, market, category, price_micros FROM rates WHERE card_id = $1",
                    ),
                    [card.id],
                )
                card.rates = {
                    (row["market"], ConversationCategory(row["category"])): CardRate(
                        row["id"], row["price_micros"]
                    )
                    for row in rows
                }
                _cache.rates[card.id] = card.rates
        return card


def _validate_market(text: str, line: int) -> str:
    market = text.strip()
    if market == ANY_MARKET:
        return market
    if len(market) == 2 and pycountry.countries.get(alpha_2=market.upper()):
        return market.upper()
    if market in known_regions():
        return market
    raise InvalidRateCard(
        f"Line {line}: {text!r} is neither an ISO country code, a Meta region nor '*'.",
        field="csv",
    )


def parse_rate_card(text: str) -> list[tuple[str, ConversationCategory, int]]:
    reader = csv.reader(io.StringIO(text.strip()))
    header = [cell.strip().lower() for cell in next(reader, [])]
    if header != ["market", "category", "price"]:
        raise InvalidRateCard("The first line must be: market,category,price", field="csv")
    rows: list[tuple[str, ConversationCategory, int]] = []
    seen: set[tuple[str, ConversationCategory]] = set()
    for line, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != 3:
            raise InvalidRateCard(f"Line {line}: three fields are needed.", field="csv")
        market = _validate_market(cells[0], line)
        category = parse_category(cells[1])
        if category is None:
            raise InvalidRateCard(f"Line {line}: unknown category {cells[1]!r}.", field="csv")
        try:
            price = parse_amount(cells[2], allow_zero=True, max_micros=MAX_RATE_MICROS)
        except InvalidAmount as error:
            raise InvalidRateCard(f"Line {line}: {error.message}", field="csv") from error
        if (market, category) in seen:
            raise InvalidRateCard(f"Line {line}: {market} / {category} appears twice.", field="csv")
        seen.add((market, category))
        rows.append((market, category, price))
    if not rows:
        raise InvalidRateCard("The rate card has no rates.", field="csv")
    return rows


async def import_rate_card(
    principal: Principal,
    *,
    csv_text: str,
    currency_code: str,
    effective_from: datetime,
    source: str = "importRateCard",
) -> tuple[RateCard, list[Rate]]:
    access.require_role(principal, Role.ADMIN)
    currency = validation.currency_code(currency_code)
    if effective_from.tzinfo is None:
        raise InvalidArgument("effectiveFrom needs a UTC offset.", field="effective_from")
    parsed = parse_rate_card(csv_text)
    async with transaction() as conn:
        card = await RateCard.create(
            currency_code=currency,
            effective_from=effective_from,
            source=source[:200],
            created_at=clock.now(),
            using_db=conn,
        )
        await Rate.bulk_create(
            [Rate(card_id=card.id, market=m, category=c, price_micros=p) for m, c, p in parsed],
            using_db=conn,
        )
        rates = await Rate.filter(card_id=card.id).using_db(conn).order_by("market", "category")
        # Every worker drops its cached cards once this commits (never on a rollback).
        unit_of_work.record(changes.control(topics.RATE_CARDS_CHANGED))
    drop_cached_cards()  # this process at once, without waiting for the event
    return card, list(rates)


async def rates_in_force(
    currency_code: str, at: datetime, market: str | None = None
) -> tuple[RateCard | None, list[Rate]]:
    """The card's rates; for a market, the one rate per category that applies to it."""
    card = (
        await RateCard.filter(currency_code=currency_code, effective_from__lte=at)
        .order_by("-effective_from", "-id")
        .first()
    )
    if card is None:
        return None, []
    rates = await Rate.filter(card_id=card.id).order_by("market", "category")
    if market is None:
        return card, list(rates)
    country = market.strip().upper() if len(market.strip()) == 2 else None
    candidates = market_candidates(country) if country else [market.strip(), ANY_MARKET]
    chosen: dict[ConversationCategory, Rate] = {}
    for candidate in reversed(candidates):
        for rate in rates:
            if rate.market == candidate:
                chosen[rate.category] = rate
    return card, sorted(chosen.values(), key=lambda r: r.category)


def shipped_effective_from() -> datetime:
    for line in (DATA / "README.md").read_text().splitlines():
        if line.startswith("effective_from:"):
            return datetime.fromisoformat(line.split(":", 1)[1].strip() + "T00:00:00+00:00")
    raise RuntimeError("backend/data/README.md has no effective_from line")


async def load_shipped_rate_card() -> RateCard | None:
    """``daybook migrate`` on an empty database: Meta's published USD card, as shipped."""
    if await RateCard.exists():
        return None
    from backend.domain.access import SYSTEM

    card, _ = await import_rate_card(
        SYSTEM,
        csv_text=(DATA / "meta_rate_card.csv").read_text(),
        currency_code="USD",
        effective_from=shipped_effective_from(),
        source="Meta published rate card (backend/data)",
    )
    return card
