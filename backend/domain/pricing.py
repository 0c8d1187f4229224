"""Recipient -> market -> price: the one place a conversation's price is worked out.

Meta prices a message by the recipient's country calling code (and, where
one code is shared by several countries, by the digits that follow it); the
rate card then names a price per market: the country's ISO code, else its Meta
region, else ``*`` ("Other"). Charging (webhooks and ``recordConversation``)
and broadcast holds all price through ``quote``.

Which country a number belongs to, in order:

1. A number libphonenumber knows as valid: its region (``region_code_for_number``).
2. Otherwise the calling code decides, as it does for Meta, whether or not
   libphonenumber knows the range (a new range, Ofcom's drama numbers such as
   +44 7700 900123): a code used by one country is that country; a shared code
   is split by the leading digits libphonenumber's metadata gives each
   country (+1: the NANP area code, so +1 876 is Jamaica, +1 242 the Bahamas),
   falling back to the code's main country (+1 -> US, +44 -> GB, +7 -> RU).
3. +7 is split by Meta between Russia and Kazakhstan; Kazakhstan has the
   +7 6xx and +7 7xx ranges, of which libphonenumber only lists 7xx, so a
   number under +7 6 is Kazakhstan too.

A recipient whose calling code is unknown, or that is too short to be a number
under its code (so the split cannot be told), has no usable calling code: the
caller dead-letters it. Non-geographic codes (+800, +882...) are no country,
so they are priced as "Other".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumber

from backend.domain import rates
from backend.domain.errors import NoRateCard
from backend.domain.models import ConversationCategory

# E.164: at most 15 digits, calling code included.
MAX_E164_DIGITS = 15
# Kazakhstan's share of +7 (first digit of the national number); see the module docstring.
KAZAKHSTAN_LEADING_DIGITS = ("6", "7")
NON_GEOGRAPHIC = phonenumbers.UNKNOWN_REGION, "001"


class UnusableRecipient(ValueError):
    """A recipient with no usable calling code: nobody can say which market it is in."""


@dataclass(frozen=True, slots=True)
class Recipient:
    e164: str  # "+447700900123"
    country: str | None  # ISO alpha-2 whose market prices it; None: "Other"


@dataclass(frozen=True, slots=True)
class Quote:
    """A price from the card, or a free conversation labelled with the market it would use."""

    market: str  # the card market that matched (or, with no card, the country or "*")
    rate_id: int | None  # None when free
    micros: int  # after the partner's markup; 0 when free


@lru_cache(maxsize=512)
def _regions(calling_code: int) -> tuple[tuple[str, str | None], ...]:
    """The countries sharing a calling code, main country first, with their leading digits."""
    regions = []
    for region in phonenumbers.region_codes_for_country_code(calling_code):
        metadata = PhoneMetadata.metadata_for_region(region)
        regions.append((region, metadata.leading_digits if metadata else None))
    return tuple(regions)


@lru_cache(maxsize=512)
def _shortest_number(calling_code: int) -> int:
    """The shortest national number any country under this code has (libphonenumber)."""
    lengths = []
    for region, _ in _regions(calling_code):
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(calling_code, region)
        if metadata is not None and metadata.general_desc is not None:
            lengths += [n for n in metadata.general_desc.possible_length if n > 0]
    return min(lengths, default=1)


@lru_cache(maxsize=64)
def _pattern(leading_digits: str) -> re.Pattern[str]:
    return re.compile(leading_digits)


def country_of(number: PhoneNumber) -> str | None:
    """The country whose market prices ``number`` (see the module docstring); None: "Other"."""
    code = number.country_code
    regions = _regions(code)
    if not regions or regions[0][0] == phonenumbers.UNKNOWN_REGION:
        raise UnusableRecipient(f"+{code} is not a country calling code")
    if regions[0][0] == "001":
        return None  # a non-geographic code: no country, Meta's "Other"
    if len(regions) == 1:
        return regions[0][0]
    national = phonenumbers.national_significant_number(number)
    # libphonenumber's own answer: the country the number is valid in, or whose
    # leading digits it starts with (+1 876 -> JM even in a range it does not know).
    known = phonenumbers.region_code_for_number(number)
    if known and known not in NON_GEOGRAPHIC:
        return known
    if code == 7 and national[:1] in KAZAKHSTAN_LEADING_DIGITS:
        return "KZ"
    for region, leading in regions[1:]:
        if leading and _pattern(leading).match(national):
            return region
    return regions[0][0]


def recipient(text: str) -> Recipient:
    """A recipient as Meta reported it (``"447700900123"`` or ``"+44..."``), parsed once.

    Raises ``UnusableRecipient`` when it has no usable calling code.
    """
    digits = str(text).strip().lstrip("+")
    if not digits.isdigit() or len(digits) > MAX_E164_DIGITS:
        raise UnusableRecipient(f"{text!r} is not a phone number")
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException as error:
        raise UnusableRecipient(f"{text!r} has no country calling code") from error
    national = phonenumbers.national_significant_number(number)
    if len(national) < _shortest_number(number.country_code):
        raise UnusableRecipient(f"{text!r} is too short for its calling code")
    country = country_of(number)
    return Recipient(
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), country
    )


def quote(
    card: rates.Card | None,
    country: str | None,
    category: ConversationCategory,
    markup_percent_micros: int,
    *,
    billable: bool,
    currency_code: str,
    at: datetime,
) -> Quote:
    """The price of one conversation under ``card`` (the card in force when it opened).

    A billable conversation needs a card and a rate (else ``NoRateCard``). A
    free one costs nothing but is labelled with the market its rate would come
    from, so that a statement groups a country under one name whatever the
    category; with no card, or no rate, it keeps its country (or ``*``).
    """
    fallback = country or rates.ANY_MARKET
    if card is None:
        if billable:
            raise NoRateCard(f"No {currency_code} rate card is in force at {at.isoformat()}.")
        return Quote(fallback, None, 0)
    table = card.rates or {}
    for market in rates.market_candidates(country):
        rate = table.get((market, category))
        if rate is not None:
            if not billable:
                return Quote(market, None, 0)
            return Quote(
                market, rate.id, rates.with_markup(rate.price_micros, markup_percent_micros)
            )
    if billable:
        raise NoRateCard(f"The rate card has no {category} rate for {fallback}.")
    return Quote(fallback, None, 0)
