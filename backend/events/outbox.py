"""Events recorded inside a transaction, published once it has committed.

``backend.db.transaction()`` opens an outbox for the outermost transaction;
domain code calls ``record`` while it writes; a rollback drops the events, a
commit publishes them. Recording outside a transaction is a bug and raises.
"""

from __future__ import annotations

from contextvars import ContextVar

from backend.events.bus import Event

_pending: ContextVar[list[Event] | None] = ContextVar("daybook_outbox", default=None)


def record(event: Event) -> None:
    pending = _pending.get()
    if pending is None:
        raise RuntimeError("events are recorded inside backend.db.transaction() only")
    pending.append(event)


def open_outbox():
    """Start collecting if no outer transaction is; returns a token, or None when nested."""
    if _pending.get() is not None:
        return None
    return _pending.set([])


def close_outbox(token) -> list[Event]:
    events = _pending.get() or []
    _pending.reset(token)
    return events
