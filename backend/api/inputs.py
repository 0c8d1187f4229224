"""Client input turned into domain values, named by its GraphQL field.

Resolvers parse here and hand the domain integers (ids, micro-units); the
domain checks its rules on those. An error raised while parsing names the
argument exactly as the client wrote it (``walletId``, ``["items", "2", "channelId"]``).

Order in a resolver: who may call at all (the role the operation needs), then
parsing, then the domain operation (which checks tenancy and its rules again).
A caller without the role hears FORBIDDEN whatever it sent, as before the
parsing moved out of the domain.
"""

from __future__ import annotations

from decimal import Decimal

from backend.domain import access, money
from backend.domain.errors import NotFound


def id_of(value: str, field: str | list[str]) -> int:
    """An id from the client; a malformed one is NOT_FOUND, like a missing one."""
    path = [field] if isinstance(field, str) else field
    try:
        return access.parse_id(value, field=path[-1])
    except NotFound as error:
        error.field = path
        raise


def optional_id_of(value: str | None, field: str) -> int | None:
    return None if value is None else id_of(value, field)


def micros_of(text: str, field: str = "amount") -> int:
    """A decimal string as micro-units; the operation checks sign and size."""
    return money.parse_decimal(text, field=field)


def optional_micros_of(text: str | None, field: str) -> int | None:
    return None if text is None else micros_of(text, field)


def percent_of(text: str, field: str, maximum: Decimal) -> int:
    """A percentage as millionths of a percent, refused as a percentage when malformed."""
    return money.parse_percent(text, field=field, maximum=maximum)


# No row has id 0: a filter on it matches nothing.
NO_ROW = 0


def filter_id_of(value: str | None) -> int | None:
    """An id used only to narrow a list: a malformed one matches nothing, like an unknown one."""
    if value is None:
        return None
    try:
        return access.parse_id(value, field="id")
    except NotFound:
        return NO_ROW
