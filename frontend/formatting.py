"""Display helpers. Money stays ``Decimal`` from the API's string to the screen: never a float."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

CENT = Decimal("0.01")


def to_decimal(value: str | None) -> Decimal:
    if not value:
        return Decimal(0)
    try:
        return Decimal(value)
    except InvalidOperation:
        return Decimal(0)


def money(amount: str | Decimal | None, currency: str = "") -> str:
    """``"1234.5"`` -> ``"1,234.50 USD"``; sub-cent amounts keep their digits (rates, charges)."""
    value = amount if isinstance(amount, Decimal) else to_decimal(amount)
    if value == value.quantize(CENT):
        text = f"{value.quantize(CENT):,.2f}"
    else:
        # A charge of 0.0125 must not be shown as 0.01: keep up to 6 places, trimmed.
        text = f"{value.quantize(Decimal('0.000001'), ROUND_HALF_EVEN).normalize():,f}"
    return f"{text} {currency}".strip()


# A typed amount: plain digits with up to 6 decimals, or thousands grouped by commas
# ("1,000.50"). Nothing else: no exponents ("1e3"), no decimal commas ("1,50"), no signs.
_PLAIN_AMOUNT = re.compile(r"\d{1,19}(\.\d{1,6})?", re.ASCII)
_GROUPED_AMOUNT = re.compile(r"\d{1,3}(,\d{3})+(\.\d{1,6})?", re.ASCII)
AMOUNT_HINT = "Enter an amount such as 25.50"


def parse_money_input(text: str) -> str | None:
    """A typed amount as a canonical decimal string, or None when it is not a plain amount.

    Only ``^\\d{1,19}(\\.\\d{1,6})?$``, or the same with correctly grouped thousands
    (``1,000.50``), is accepted. ``1,50`` (a decimal comma), ``1 000`` and ``1e3`` are
    refused rather than guessed at; the caller shows ``AMOUNT_HINT`` next to the field.
    """
    cleaned = text.strip()
    if _GROUPED_AMOUNT.fullmatch(cleaned):
        cleaned = cleaned.replace(",", "")
        if len(cleaned.partition(".")[0]) > 19:
            return None
    elif not _PLAIN_AMOUNT.fullmatch(cleaned):
        return None
    return format(Decimal(cleaned), "f")


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def when(value: str | None) -> str:
    """An API timestamp as ``2026-03-05 14:02 UTC`` (the API speaks UTC; so does the page)."""
    parsed = parse_iso(value)
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if parsed else "—"


def day(value: str | None) -> str:
    parsed = parse_iso(value)
    return parsed.astimezone(UTC).strftime("%Y-%m-%d") if parsed else "—"


def date_filter(text: str, *, end: bool = False) -> str | None:
    """A ``YYYY-MM-DD`` filter as the API's DateTime; an end date includes its whole day."""
    text = text.strip()
    if not text:
        return None
    try:
        start = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None
    return (start + timedelta(days=1) if end else start).isoformat()


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def humanize(enum_value: str) -> str:
    """``LOW_BALANCE`` -> ``Low balance``."""
    return enum_value.replace("_", " ").capitalize() if enum_value else ""
