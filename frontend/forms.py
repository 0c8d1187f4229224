"""Form plumbing shared by the page states: where a userError is shown, which idempotency key
a submission carries. Stdlib only, so it is unit-tested without Reflex."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Protocol

FORM = "form"
MAX_PURCHASE_DAYS = 1_000_000  # the most days one buyDays may buy (the API refuses more)


class FieldError(Protocol):
    field: str
    message: str


def errors_by_control(errors: Iterable[FieldError], controls: Iterable[str]) -> dict[str, str]:
    """``{control: message}`` for a form whose error slots are ``controls`` (plus ``"form"``).

    An error whose field has no control of its own on the form (``idempotencyKey``,
    an id the form does not show) goes to the form-level slot instead of being
    dropped; several errors for one slot are shown together.
    """
    slots = set(controls)
    shown: dict[str, str] = {}
    for error in errors:
        slot = error.field if error.field in slots else FORM
        shown[slot] = f"{shown[slot]} {error.message}" if slot in shown else error.message
    return shown


def new_key(prefix: str = "dashboard") -> str:
    return f"{prefix}-{uuid.uuid4()}"


def key_for(current_key: str, sent_with: str, inputs: str) -> str:
    """The idempotency key for submitting ``inputs``.

    The same inputs sent again (a double click, a retry after a lost answer) keep
    the key, so the API replays instead of doing it twice; changed inputs get a
    new key, so the API does not refuse them as a reused key.
    """
    if current_key and sent_with == inputs:
        return current_key
    return new_key()


def whole_days(text: str, maximum: int = MAX_PURCHASE_DAYS) -> int | None:
    """Typed days as a whole number from 1 to ``maximum``, or None (the form says why)."""
    cleaned = text.strip()
    if not cleaned.isascii() or not cleaned.isdigit():
        return None
    days = int(cleaned)
    return days if 1 <= days <= maximum else None
