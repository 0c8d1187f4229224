"""The registry through which page states follow live events (``frontend/state/live_events.py``,
stdlib only): what runs for which kind, in which order, and what is refused."""

from __future__ import annotations

from typing import Any

import pytest

from frontend.state.live_events import (
    BALANCE_CHANGED,
    CHANNEL_CHANGED,
    LiveEventRegistry,
    StateTree,
)


class Tab:
    """Stands for the live state: handlers only ever ask it for another state."""

    async def get_state(self, state_cls: type) -> Any:
        return state_cls()


async def test_an_event_runs_the_handlers_of_its_kind_only_in_registration_order() -> None:
    registry = LiveEventRegistry()
    ran: list[tuple[str, dict[str, Any]]] = []

    @registry.on(BALANCE_CHANGED)
    async def ledger(live: StateTree, data: dict[str, Any]) -> None:
        ran.append(("ledger", data))

    @registry.on(BALANCE_CHANGED)
    async def totals(live: StateTree, data: dict[str, Any]) -> None:
        ran.append(("totals", data))

    @registry.on(CHANNEL_CHANGED)
    async def table(live: StateTree, data: dict[str, Any]) -> None:
        ran.append(("table", data))

    await registry.dispatch(Tab(), BALANCE_CHANGED, {"wallet": {"id": "w1"}})
    assert ran == [("ledger", {"wallet": {"id": "w1"}}), ("totals", {"wallet": {"id": "w1"}})]


async def test_a_resync_runs_every_resync_handler_with_the_live_state() -> None:
    registry = LiveEventRegistry()
    seen: list[object] = []

    @registry.on_resync
    async def first(live: StateTree) -> None:
        seen.append(await live.get_state(list))

    @registry.on_resync
    async def second(live: StateTree) -> None:
        seen.append(await live.get_state(dict))

    await registry.resync(Tab())
    assert seen == [[], {}]


async def test_a_kind_nobody_registered_for_runs_nothing() -> None:
    registry = LiveEventRegistry()
    await registry.dispatch(Tab(), "alerts", {"id": "a1"})
    await registry.dispatch(Tab(), "somethingNew", {})
    assert registry.handlers("alerts") == []


def test_a_misspelt_kind_is_refused_when_registering() -> None:
    registry = LiveEventRegistry()
    with pytest.raises(ValueError, match="balanceChnaged"):
        registry.on("balanceChnaged")


async def test_registering_the_same_handler_again_replaces_it() -> None:
    # What a module imported twice does (Reflex's hot reload): no handler runs twice.
    registry = LiveEventRegistry()
    ran: list[str] = []

    def define(label: str) -> None:
        @registry.on(CHANNEL_CHANGED)
        async def rebuild(live: StateTree, data: dict[str, Any]) -> None:
            ran.append(label)

    define("old")
    define("new")
    await registry.dispatch(Tab(), CHANNEL_CHANGED, {})
    assert ran == ["new"]
