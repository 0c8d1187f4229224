"""Which browser tabs are live: one live task per tab, stopped on sign-out or a partner change,
and ended by a watchdog once its tab has gone.

Apart from ``LiveState`` that runs the tasks, ``AuthState`` stops them on sign-out,
so this bookkeeping lives below both. Whether a tab is still connected is the
app's to say: the app module hands itself over with ``follow_connections_of``
(this module, like every state, never imports the app).
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

# What a live task follows: (API key, "<role>:<partner>:<customer>").
Follows = tuple[str, str]

# token -> (task, what it follows). One live connection per browser tab.
_TASKS: dict[str, tuple[asyncio.Task, Follows]] = {}


class ServedApp(Protocol):
    """The part of ``rx.App`` the watchdog reads: its socket namespace, set once it serves."""

    event_namespace: Any


_app: ServedApp | None = None


def follow_connections_of(app: ServedApp) -> None:
    """Called by the app module: the watchdog asks this app whether a tab is still connected."""
    global _app
    _app = app


def stop_live(token: str) -> None:
    """End a tab's subscriptions (sign-out, another partner chosen)."""
    entry = _TASKS.pop(token, None)
    if entry is not None:
        entry[0].cancel()


def is_live(token: str, follows: Follows) -> bool:
    """Whether the tab already has a running live task following the same key and scope."""
    current = _TASKS.get(token)
    return current is not None and not current[0].done() and current[1] == follows


def claim(token: str, task: asyncio.Task, follows: Follows) -> None:
    """Make ``task`` the tab's live task, ending the one it had."""
    stop_live(token)
    _TASKS[token] = (task, follows)


def release(token: str, task: asyncio.Task) -> None:
    """Forget ``task`` as the tab's live task, unless another one has replaced it meanwhile."""
    if _TASKS.get(token, (None,))[0] is task:
        _TASKS.pop(token, None)


async def tab_connected(token: str) -> bool:
    """Whether the browser tab behind ``token`` still has its socket to this server.

    Reflex does not cancel background tasks when a tab goes away, so the live
    task asks the app's token manager and ends itself when the tab is gone.
    """
    namespace = getattr(_app, "event_namespace", None)
    manager = getattr(namespace, "_token_manager", None)
    if manager is None:  # not served yet, or an internal we rely on changed: keep the task
        return True
    return await manager.is_token_connected(token)


async def watchdog(token: str, task: asyncio.Task, grace_seconds: float = 30.0) -> None:
    """Cancel ``task`` once its tab has been disconnected for ``grace_seconds`` (reloads reconnect)."""
    gone_since: float | None = None
    loop = asyncio.get_running_loop()
    while not task.done():
        await asyncio.sleep(5)
        if await tab_connected(token):
            gone_since = None
        elif gone_since is None:
            gone_since = loop.time()
        elif loop.time() - gone_since > grace_seconds:
            task.cancel()
            return
