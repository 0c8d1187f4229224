"""Display helpers. Money stays ``Decimal`` from the API's string to the screen: never a float."""

from __future__ import annotations

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


def parse_money_input(text: str) -> str | None:
    """A typed amount as a canonical decimal string, or None when it is not a number."""
    cleaned = text.strip().replace(",", "").replace(" ", "")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    return format(value, "f")


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
