"""Custom scalars of the contract.

``Decimal`` travels as a string and is *not* parsed here: the domain's
``parse_amount`` does that, so a malformed amount becomes the userError
INVALID_AMOUNT (with nothing changed) instead of a bare GraphQL error.
"""

from __future__ import annotations

from typing import NewType

import strawberry


def _decimal_in(value: object) -> str:
    if isinstance(value, bool) or isinstance(value, float):
        # A float has already lost cents somewhere; money is sent as a string.
        raise ValueError('Decimal values are strings such as "12.50", never floats.')
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise ValueError('Decimal values are strings such as "12.50".')
    return value


DecimalString = NewType("DecimalString", str)

SCALARS = {
    DecimalString: strawberry.scalar(
        name="Decimal",
        description='Money or a rate as a decimal string, e.g. "12.34"; at most 6 decimal places.',
        serialize=str,
        parse_value=_decimal_in,
    )
}
