"""Checks on plain inputs shared by several operations.

Every piece of free text that enters the domain (comments, reasons, names,
idempotency keys, key prefixes, tokens) goes through :func:`free_text` first.
"""

from __future__ import annotations

import unicodedata

import pycountry

from backend.domain.errors import (
    DomainError,
    InvalidArgument,
    InvalidComment,
    InvalidCurrency,
    InvalidDays,
)

MAX_COMMENT_LENGTH = 500
MAX_NAME_LENGTH = 200

# Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069):
# they make text display in another order than it is stored ("Trojan source").
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
# Codes ISO 4217 lists that are no currency: testing, "no currency", precious
# metals, bond-market units, IMF and regional units of account.
NOT_CURRENCIES = frozenset(
    {"XXX", "XTS", "XAU", "XAG", "XPT", "XPD", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA"}
)


def free_text(
    text: str | None,
    *,
    field: str,
    multiline: bool = False,
    error: type[DomainError] = InvalidArgument,
) -> str:
    """Text a client sent, made safe to store and show.

    Refused (``error`` on ``field``): a NUL character (PostgreSQL cannot store
    one) and lone surrogates (no valid UTF-8 exists for them). Removed: every
    other control character (newlines and tabs are kept in ``multiline`` text)
    and the bidi override characters. The result is not trimmed or length-checked.
    """
    if text is None:
        return ""
    if "\x00" in text:
        raise error("Text cannot contain a NUL character.", field=field)
    if any("\ud800" <= char <= "\udfff" for char in text):
        raise error("Text cannot contain a lone surrogate (invalid Unicode).", field=field)
    kept = "\n\t" if multiline else ""
    if text.isprintable() and not BIDI_CONTROLS.intersection(text):
        return text  # the common case: nothing to remove
    return "".join(
        char
        for char in text
        if char in kept or (char not in BIDI_CONTROLS and unicodedata.category(char) != "Cc")
    )


def comment(text: str | None, *, required: bool, field: str = "comment") -> str | None:
    if text is not None:
        text = free_text(text, field=field, multiline=True, error=InvalidComment)
    if text is None or not text.strip():
        if required:
            raise InvalidComment("A comment is required and cannot be blank.", field=field)
        return None
    text = text.strip()
    if len(text) > MAX_COMMENT_LENGTH:
        raise InvalidComment(f"A comment is at most {MAX_COMMENT_LENGTH} characters.", field=field)
    return text


def name(text: str, *, field: str = "name") -> str:
    text = free_text(text, field=field).strip()
    if not text or len(text) > MAX_NAME_LENGTH:
        raise InvalidArgument(f"A name is 1 to {MAX_NAME_LENGTH} characters.", field=field)
    return text


def currency_code(text: str, *, field: str = "currency_code") -> str:
    code = (text or "").strip().upper()
    if (
        len(code) != 3
        or not code.isascii()
        or code in NOT_CURRENCIES
        or pycountry.currencies.get(alpha_3=code) is None
    ):
        raise InvalidCurrency(
            f"{(text or '')[:12]!r} is not an ISO 4217 currency code such as USD or EUR.",
            field=field,
        )
    return code


def whole_days(value: int, *, field: str = "days", minimum: int = 1, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidDays(f"Days must be a whole number from {minimum} to {maximum}.", field=field)
    return value
