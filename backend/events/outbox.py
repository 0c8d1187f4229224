"""Events recorded inside a transaction, published once it has committed.

``backend.db.transaction()`` opens an outbox for the outermost transaction;
domain code calls ``record`` while it writes; a rollback drops the events, a
commit publishes them. Recording outside a transaction is a bug and raises.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar

from backend.events.bus import Event

_pending: ContextVar[list[Event] | None] = ContextVar("daybook_outbox", default=None)
_after: ContextVar[list[Callable[[], Awaitable[None]]] | None] = ContextVar(
    "daybook_after_commit", default=None
)


def record(event: Event) -> None:
    pending = _pending.get()
    if pending is None:
        raise RuntimeError("events are recorded inside backend.db.transaction() only")
    pending.append(event)


def after_commit(task: Callable[[], Awaitable[None]]) -> None:
    """Run ``task`` once the outermost transaction has committed (never on rollback)."""
    tasks = _after.get()
    if tasks is None:
        raise RuntimeError("after_commit is used inside backend.db.transaction() only")
    tasks.append(task)


def open_outbox():
    """Start collecting if no outer transaction is; returns a token, or None when nested."""
    if _pending.get() is not None:
        return None
    return _pending.set([]), _after.set([])


def close_outbox(token) -> tuple[list[Event], list[Callable[[], Awaitable[None]]]]:
    events_token, after_token = token
    events = _pending.get() or []
    tasks = _after.get() or []
    _pending.reset(events_token)
    _after.reset(after_token)
    return events, tasks


def mark() -> tuple[int, int] | None:
    """Where a nested transaction starts in the outer one's lists (None outside any)."""
    events, tasks = _pending.get(), _after.get()
    if events is None or tasks is None:
        return None
    return len(events), len(tasks)


def rollback_to(position: tuple[int, int] | None) -> None:
    """A nested transaction (a savepoint) rolled back: forget what it recorded."""
    if position is None:
        return
    events, tasks = _pending.get(), _after.get()
    if events is not None:
        del events[position[0] :]
    if tasks is not None:
        del tasks[position[1] :]
