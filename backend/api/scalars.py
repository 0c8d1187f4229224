"""Custom scalars of the contract.

``Decimal`` travels as a string and is *not* parsed here: the domain's
``parse_amount`` does that, so a malformed amount becomes the userError
INVALID_AMOUNT (with nothing changed) instead of a bare GraphQL error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NewType

import strawberry
from dateutil.parser import isoparse
from graphql import StringValueNode, ValueNode, VariableNode

from backend.domain.access import to_utc

NOT_A_STRING = 'Decimal values are strings such as "12.50", never JSON numbers.'


def _decimal_in(value: object) -> str:
    # A number has gone through a float somewhere (JSON parsers, JavaScript), and
    # 25 may have meant 25 cents: amounts are accepted only as decimal strings.
    if not isinstance(value, str):
        raise ValueError(NOT_A_STRING)
    return value


def _decimal_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> str:
    """``amount: "12.50"`` in a document; ``amount: 25`` or ``12.5`` is refused."""
    if isinstance(node, VariableNode):
        return _decimal_in((variables or {}).get(node.name.value))
    if not isinstance(node, StringValueNode):
        raise ValueError(NOT_A_STRING)
    return node.value


def _datetime_in(value: object) -> datetime:
    """ISO 8601; a UTC offset is normalised to UTC here, once, for every argument.

    Normalising can leave datetime's range (``0001-01-01T00:00:00+14:00`` is
    still year 0 in UTC): such a moment is the earliest (or latest) one there is.
    """
    if not isinstance(value, str):
        raise ValueError("DateTime values are ISO 8601 strings.")
    try:
        parsed = isoparse(value)
    except (ValueError, OverflowError) as error:
        raise ValueError(f"{value[:40]!r} is not an ISO 8601 date-time.") from error
    return to_utc(parsed)


DecimalString = NewType("DecimalString", str)

SCALARS = {
    DecimalString: strawberry.scalar(
        name="Decimal",
        description='Money or a rate as a decimal string, e.g. "12.34"; at most 6 decimal places.',
        serialize=str,
        parse_value=_decimal_in,
        parse_literal=_decimal_literal,
    ),
    datetime: strawberry.scalar(
        name="DateTime",
        description="Date with time (isoformat)",
        serialize=datetime.isoformat,
        parse_value=_datetime_in,
    ),
}
