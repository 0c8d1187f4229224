"""Money: integer micro-units inside, Decimal strings at the edge (design rule 2).

``parse_amount`` is the only way a caller's amount enters the system; it
refuses anything that is not a plain decimal with at most 6 places.
``format_micros`` is the only way an amount leaves it.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal

from backend.domain.errors import InvalidAmount, InvalidArgument

MICROS_PER_UNIT = 1_000_000
# One movement may not exceed a billion units; anything near 10^12 is a typo or an attack.
MAX_MOVEMENT_MICROS = 1_000_000_000 * MICROS_PER_UNIT
# A balance must stay far inside a signed 64-bit column.
MAX_BALANCE_MICROS = 1_000_000_000_000 * MICROS_PER_UNIT

_DECIMAL_TEXT = re.compile(r"^([+-]?)([0-9]{1,19})(?:\.([0-9]{1,6}))?$")
_SIX_PLACES = Decimal("0.000001")


def parse_decimal(text: str, *, field: str = "amount") -> int:
    """Turn ``"12.34"`` into ``12_340_000`` micro-units, any sign and size the
    format allows; the bounds are the operation's (``check_micros``)."""
    if not isinstance(text, str):
        raise InvalidAmount('The amount must be a decimal string such as "12.50".', field=field)
    stripped = text.strip()
    match = _DECIMAL_TEXT.match(stripped)
    if match is None:
        if re.match(r"^[+-]?[0-9]*\.[0-9]{7,}$", stripped):
            raise InvalidAmount("Amounts have at most 6 decimal places.", field=field)
        raise InvalidAmount(f'{text!r} is not a decimal amount such as "12.50".', field=field)
    sign, whole, fraction = match.groups()
    micros = int(whole) * MICROS_PER_UNIT + int((fraction or "").ljust(6, "0") or 0)
    return -micros if sign == "-" else micros


def parse_amount(
    text: str,
    *,
    field: str = "amount",
    allow_zero: bool = False,
    allow_negative: bool = False,
    max_micros: int = MAX_MOVEMENT_MICROS,
) -> int:
    """``parse_decimal`` and ``check_micros`` at once, or raise ``InvalidAmount``."""
    return check_micros(
        parse_decimal(text, field=field),
        field=field,
        allow_zero=allow_zero,
        allow_negative=allow_negative,
        max_micros=max_micros,
    )


def check_micros(
    micros: int,
    *,
    field: str = "amount",
    allow_zero: bool = False,
    allow_negative: bool = False,
    max_micros: int = MAX_MOVEMENT_MICROS,
) -> int:
    """The bounds of an amount already in micro-units; ``parse_amount`` applies them too.

    Domain operations take micro-units and check them here, so a caller that
    did not come through ``parse_amount`` (a job, a test) meets the same rules.
    """
    if micros == 0 and not allow_zero:
        raise InvalidAmount("The amount must not be zero.", field=field)
    if micros < 0 and not allow_negative:
        raise InvalidAmount("The amount must be positive.", field=field)
    if abs(micros) > max_micros:
        raise InvalidAmount(f"The amount must not exceed {format_micros(max_micros)}.", field=field)
    return micros


def format_micros(micros: int) -> str:
    """``12_340_000`` -> ``"12.34"``; at least 2 and at most 6 decimal places, never lossy."""
    sign = "-" if micros < 0 else ""
    whole, fraction = divmod(abs(micros), MICROS_PER_UNIT)
    digits = f"{fraction:06d}".rstrip("0").ljust(2, "0")
    return f"{sign}{whole}.{digits}"


def micros_to_decimal(micros: int) -> Decimal:
    return Decimal(micros).scaleb(-6)


def decimal_to_micros(value: Decimal) -> int:
    """Round half-even at 6 places and return integer micro-units."""
    return int(value.quantize(_SIX_PLACES, rounding=ROUND_HALF_EVEN).scaleb(6))


def divide_half_even(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half-even, in exact integer arithmetic."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def percent_of(amount_micros: int, percent_micros: int) -> int:
    """``percent_micros`` (millionths of a percent) of an amount, rounded half-even."""
    return divide_half_even(amount_micros * percent_micros, 100 * MICROS_PER_UNIT)


def parse_percent(text: str, *, field: str, maximum: Decimal) -> int:
    """A percentage such as ``"12.5"`` as millionths of a percent (``12_500_000``)."""
    try:
        micros = parse_decimal(text, field=field)
    except InvalidAmount as error:
        raise _bad_percent(field, maximum) from error
    return check_percent(micros, field=field, maximum=maximum)


def check_percent(micros: int, *, field: str, maximum: Decimal) -> int:
    """A percentage in millionths, from 0 to ``maximum``."""
    if not 0 <= micros <= decimal_to_micros(maximum):
        raise _bad_percent(field, maximum)
    return micros


def _bad_percent(field: str, maximum: Decimal) -> InvalidArgument:
    return InvalidArgument(
        f"A percentage from 0 to {maximum} with at most 6 decimal places is needed.",
        field=field,
    )
