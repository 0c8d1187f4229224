"""API types every area shares: money as a decimal string with its currency, and how a
field points back up the area hierarchy without importing it."""

from __future__ import annotations

from functools import cache
from typing import Any

import strawberry

from backend.api.scalars import DecimalString
from backend.domain.money import format_micros


@strawberry.type
class Money:
    amount: DecimalString
    currency_code: str

    @classmethod
    def of(cls, micros: int, currency_code: str) -> Money:
        return cls(amount=DecimalString(format_micros(micros)), currency_code=currency_code)


def percent(micros: int) -> DecimalString:
    return DecimalString(format_micros(micros))


@cache
def upward(type_name: str, module: str) -> Any:
    """The API type ``type_name`` of ``module``, found on first use.

    Areas import one another downwards only (tenants -> wallets, channels, invoices;
    charging and days -> channels). A few fields point back up (a channel's or a
    wallet's customer): their annotation names the type with ``strawberry.lazy`` and
    their resolver builds it through the same lazy reference, so no module imports
    an area above it and the areas stay free of import cycles.
    """
    return strawberry.LazyType(type_name, module).resolve_type()
