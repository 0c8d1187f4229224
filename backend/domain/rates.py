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

import phonenumbers
import pycountry

from backend.domain import access, validation
from backend.domain.access import Principal
from backend.domain.clock import clock
from backend.domain.errors import DomainError, InvalidAmount, InvalidArgument
from backend.domain.models import ConversationCategory, Rate, RateCard, Role
from backend.domain.money import MICROS_PER_UNIT, decimal_to_micros, micros_to_decimal, parse_amount
from backend.domain.unit_of_work import transaction

DATA = Path(__file__).resolve().parent.parent / "data"
ANY_MARKET = "*"
MAX_RATE_MICROS = 1000 * MICROS_PER_UNIT


class InvalidRateCard(InvalidArgument):
    code = "INVALID_RATE_CARD"


class NoRateCard(DomainError):
    code = "NO_RATE_CARD"


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


def market_of(recipient_e164: str) -> str | None:
    """The recipient's country (ISO alpha-2), or None when the number names none."""
    try:
        number = phonenumbers.parse(recipient_e164, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.region_code_for_number(number)


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


@dataclass(frozen=True)
class Price:
    rate: Rate
    market: str  # the card market that matched
    micros: int  # after the partner's markup


def with_markup(rate_micros: int, markup_percent_micros: int) -> int:
    factor = 1 + micros_to_decimal(markup_percent_micros) / 100
    return decimal_to_micros(micros_to_decimal(rate_micros) * factor)


class PriceBook:
    """The rate cards of one currency, read once for a unit of work (a webhook request).

    Pricing ten statuses then costs no query at all after the first: cards are
    listed once and each card's rates are loaded the first time it is needed.
    """

    def __init__(self, currency_code: str) -> None:
        self.currency_code = currency_code
        self._cards: list[RateCard] | None = None
        self._rates: dict[int, dict[tuple[str, ConversationCategory], Rate]] = {}

    async def card_at(self, at: datetime) -> RateCard | None:
        if self._cards is None:
            self._cards = list(
                await RateCard.filter(currency_code=self.currency_code).order_by(
                    "-effective_from", "-id"
                )
            )
        return next((card for card in self._cards if card.effective_from <= at), None)

    async def price(
        self,
        card: RateCard,
        country: str | None,
        category: ConversationCategory,
        markup_percent_micros: int,
    ) -> Price | None:
        if card.id not in self._rates:
            self._rates[card.id] = {
                (rate.market, ConversationCategory(rate.category)): rate
                for rate in await Rate.filter(card_id=card.id)
            }
        table = self._rates[card.id]
        for market in market_candidates(country):
            rate = table.get((market, category))
            if rate is not None:
                return Price(rate, market, with_markup(rate.price_micros, markup_percent_micros))
        return None


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
        raise InvalidArgument("effectiveFrom needs a UTC offset.", field="effectiveFrom")
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
    return card, list(rates)


async def rates_in_force(
    currency_code: str, at: datetime, market: str | None = None
) -> tuple[RateCard | None, list[Rate]]:
    """The card's rates; for a market, the one rate per category that applies to it."""
    card = await PriceBook(currency_code).card_at(at)
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
