"""Checks on plain inputs shared by several operations."""

from __future__ import annotations

import pycountry

from backend.domain.errors import InvalidArgument, InvalidComment, InvalidCurrency, InvalidDays

MAX_COMMENT_LENGTH = 500
MAX_NAME_LENGTH = 200


def comment(text: str | None, *, required: bool, field: str = "comment") -> str | None:
    if text is None or not text.strip():
        if required:
            raise InvalidComment("A comment is required and cannot be blank.", field=field)
        return None
    text = text.strip()
    if len(text) > MAX_COMMENT_LENGTH:
        raise InvalidComment(f"A comment is at most {MAX_COMMENT_LENGTH} characters.", field=field)
    return text


def name(text: str, *, field: str = "name") -> str:
    text = (text or "").strip()
    if not text or len(text) > MAX_NAME_LENGTH:
        raise InvalidArgument(f"A name is 1 to {MAX_NAME_LENGTH} characters.", field=field)
    return text


def currency_code(text: str, *, field: str = "currency_code") -> str:
    code = (text or "").strip().upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise InvalidCurrency(
            f"{text!r} is not an ISO 4217 currency code such as USD or EUR.", field=field
        )
    return code


def whole_days(value: int, *, field: str = "days", minimum: int = 1, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidDays(f"Days must be a whole number from {minimum} to {maximum}.", field=field)
    return value
