"""The unit of work: one database transaction, and what follows once it has committed.

Domain code writes inside ``transaction()``. While it runs, three things are
collected here instead of being done on the spot:

- the **movements** the ledgers made (``record_movement``; the ledgers write
  and return, and call nobody);
- the **events** for subscribers (``record``), already carrying the rows they
  show, so delivery reads nothing;
- **tasks** to run on their own once the data is durable (``after_commit``):
  a payment gateway call, an alert webhook POST.

When the outermost transaction commits, the movements go to the reactor
(``backend.domain.reactions``, installed by every entry point: the app, the
CLI, the tests), which decides what follows them: alerts, events,
auto-recharge. Then the events are published and the tasks started. A
rollback, or a savepoint that rolls back, forgets what it recorded, so a
subscriber never sees a movement that did not happen (design rule 7).

A movement that is one statement on its own needs no BEGIN/COMMIT around it:
``single_statement()`` is a unit of work on an autocommit connection
(PostgreSQL only; SQLite's movement is two statements and gets a transaction).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from backend.db import connection, is_postgres
from backend.events.bus import Event, bus
from backend.metrics import REACTIONS_FAILED

log = logging.getLogger("daybook.unit_of_work")

Task = Callable[[], Awaitable[None]]


class Reactor(Protocol):
    """What follows committed movements (``backend.domain.reactions``)."""

    def events(self, movements: Sequence[Any]) -> list[Event]:
        """The events that tell subscribers about the movements, carrying their rows."""
        ...

    async def react(self, movements: Sequence[Any]) -> None:
        """Everything else: alerts for thresholds crossed, auto-recharge, ..."""
        ...


@dataclass
class _Unit:
    movements: list[Any] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)

    def mark(self) -> tuple[int, int, int]:
        return len(self.movements), len(self.events), len(self.tasks)

    def rollback_to(self, mark: tuple[int, int, int]) -> None:
        del self.movements[mark[0] :]
        del self.events[mark[1] :]
        del self.tasks[mark[2] :]


_current: ContextVar[_Unit | None] = ContextVar("daybook_unit_of_work", default=None)
_reactor: Reactor | None = None


def install_reactor(reactor: Reactor) -> None:
    """Name the one function that reacts to committed movements (``backend.domain.reactions``)."""
    global _reactor
    _reactor = reactor


def _unit(what: str) -> _Unit:
    unit = _current.get()
    if unit is None:
        raise RuntimeError(f"{what} happens inside unit_of_work.transaction() only")
    return unit


def record_movement(movement: Any) -> None:
    """A ledger made a movement in the current unit of work (the reactor sees it after commit)."""
    if _reactor is None:
        # Refused before commit: a movement nothing would react to must not happen.
        raise RuntimeError("no reactor installed: call backend.domain.reactions.install() first")
    _unit("a movement").movements.append(movement)


def record(event: Event) -> None:
    """Publish ``event`` once the current unit of work has committed (never on rollback)."""
    _unit("recording an event").events.append(event)


def after_commit(task: Task) -> None:
    """Run ``task`` on its own once the current unit of work has committed (never on rollback)."""
    _unit("after_commit").tasks.append(task)


@asynccontextmanager
async def transaction() -> AsyncIterator[BaseDBAsyncClient]:
    """A database transaction; what it recorded follows only if it commits.

    Nested calls run inside the outer transaction as a savepoint; only the
    outermost one reacts and publishes.
    """
    outer = _current.get()
    if outer is not None:
        mark = outer.mark()
        try:
            async with in_transaction() as conn:
                yield conn
        except BaseException:
            outer.rollback_to(mark)  # the savepoint rolled back: so does what it recorded
            raise
        return
    unit = _Unit()
    token = _current.set(unit)
    try:
        async with in_transaction() as conn:
            yield conn
    finally:
        _current.reset(token)
    await _committed(unit)


@asynccontextmanager
async def single_statement() -> AsyncIterator[BaseDBAsyncClient]:
    """A unit of work for one statement that is atomic on its own: no BEGIN, no COMMIT.

    On PostgreSQL the statement runs on an autocommit connection; SQLite (where
    a movement is two statements) and a caller already inside a unit of work
    get ``transaction()``.
    """
    if _current.get() is not None or not is_postgres():
        async with transaction() as conn:
            yield conn
        return
    unit = _Unit()
    token = _current.set(unit)
    try:
        yield connection()
    finally:
        _current.reset(token)
    await _committed(unit)


async def _committed(unit: _Unit) -> None:
    """The unit's data is durable: publish its events, react, start the tasks."""
    events = unit.events
    if unit.movements and _reactor is not None:
        events = _reactor.events(unit.movements) + events
    if events:
        bus.publish(events)
    if unit.movements and _reactor is not None:
        try:
            await _reactor.react(unit.movements)
        except Exception:
            # The movements are committed whatever happens here; what a reaction
            # failed to write (an alert) is put right by the jobs loop's sweep.
            REACTIONS_FAILED.inc()
            log.exception("reacting to %d committed movements failed", len(unit.movements))
    for task in unit.tasks:
        spawn(task)


def spawn(task: Task) -> None:
    """Run ``task`` on its own: side effects (a payment gateway call) that the
    request which committed must never wait on. ``drain_after_commit`` waits for them."""
    running = asyncio.create_task(_run_task(task))
    _running_tasks.add(running)
    running.add_done_callback(_running_tasks.discard)


_running_tasks: set[asyncio.Task] = set()


async def drain_after_commit() -> None:
    """Wait for every after-commit task started so far (shutdown, tests)."""
    while _running_tasks:
        await asyncio.gather(*list(_running_tasks), return_exceptions=True)


async def _run_task(task: Task) -> None:
    try:
        await task()
    except Exception:
        log.exception("after-commit task failed")
