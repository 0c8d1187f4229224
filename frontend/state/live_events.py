"""What the page states do when a live event arrives, registered by the page states themselves.

``LiveState`` (``state/live.py``) owns the tab's one live connection and writes
the shared numbers (balances, channels, alerts). A page state that keeps its own
view of the same data (the channels table, the ledger of the wallet in view, the
billing history) registers here what it does with an event of a kind, and after a
resync (a fresh snapshot). ``LiveState`` dispatches through ``LIVE_EVENTS`` and so
never imports a page state: the page states import it (they are its substates)
and this module, which imports nothing of the dashboard.

Registration happens when a page state's module is imported, which the app
module does for every page before serving.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

# The subscription fields of the live connection (``queries.SUB_*``): the event kinds.
BALANCE_CHANGED = "balanceChanged"
DAY_BALANCE_CHANGED = "dayBalanceChanged"
CHANNEL_CHANGED = "channelChanged"
ALERTS = "alerts"
EVENT_KINDS = frozenset({BALANCE_CHANGED, DAY_BALANCE_CHANGED, CHANNEL_CHANGED, ALERTS})

StateT = TypeVar("StateT")


class StateTree(Protocol):
    """The live state as handlers see it: a way to reach the tab's other states."""

    async def get_state(self, state_cls: type[StateT], /) -> StateT: ...


EventHandler = Callable[[StateTree, dict[str, Any]], Awaitable[None]]
ResyncHandler = Callable[[StateTree], Awaitable[None]]


def _identity(handler: Callable[..., Any]) -> str:
    # Keyed by where the handler is defined, so a module imported again (Reflex's
    # hot reload in development) replaces its handlers instead of adding twins.
    return f"{handler.__module__}.{handler.__qualname__}"


class LiveEventRegistry:
    """Handlers by event kind, and handlers of a resync, each run in registration order."""

    def __init__(self) -> None:
        self._on_event: dict[str, dict[str, EventHandler]] = {kind: {} for kind in EVENT_KINDS}
        self._on_resync: dict[str, ResyncHandler] = {}

    def on(self, kind: str) -> Callable[[EventHandler], EventHandler]:
        """Decorator: run the handler with (live state, event data) for each event of ``kind``."""
        if kind not in EVENT_KINDS:
            # A misspelt kind would register a handler that never runs: refuse it at import.
            raise ValueError(f"unknown live event kind {kind!r}; known: {sorted(EVENT_KINDS)}")

        def register(handler: EventHandler) -> EventHandler:
            self._on_event[kind][_identity(handler)] = handler
            return handler

        return register

    def on_resync(self, handler: ResyncHandler) -> ResyncHandler:
        """Decorator: run the handler with the live state after each fresh snapshot."""
        self._on_resync[_identity(handler)] = handler
        return handler

    def handlers(self, kind: str) -> list[EventHandler]:
        return list(self._on_event.get(kind, {}).values())

    def resync_handlers(self) -> list[ResyncHandler]:
        return list(self._on_resync.values())

    async def dispatch(self, live: StateTree, kind: str, data: dict[str, Any]) -> None:
        """Let every page state that registered for ``kind`` follow the event."""
        for handler in self.handlers(kind):
            await handler(live, data)

    async def resync(self, live: StateTree) -> None:
        """Let every page state that registered for it follow a fresh snapshot."""
        for handler in self.resync_handlers():
            await handler(live)


# The one registry of the dashboard: LiveState dispatches, page states register.
LIVE_EVENTS = LiveEventRegistry()
