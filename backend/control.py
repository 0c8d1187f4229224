"""Every worker drops what it caches as soon as any worker says it changed.

Two caches must never outlive a change: authenticated API keys (a revoked key
stops working at once, and the sockets opened with it are closed) and rate
cards (a new import prices the next webhook).
A change is a control event on the bus, so with Redis it reaches every
worker. When the bus says events may have been missed (Redis came back after
a gap, or this listener fell behind), everything is dropped: a cache refilled
from the database is slower for a moment, never wrong.
"""

from __future__ import annotations

import asyncio
import logging

from backend.api import sessions
from backend.domain import api_keys, rates
from backend.events import topics
from backend.events.bus import Dropped, Event, bus

log = logging.getLogger("daybook.control")

TOPICS = (topics.API_KEY_REVOKED, topics.RATE_CARDS_CHANGED)


_closing: set[asyncio.Task] = set()


def apply(event: Event) -> None:
    if topics.API_KEY_REVOKED in event.topics:
        key_id = event.data.get("key_id")
        api_keys.forget(key_id)
        if key_id is not None:
            # Its open sockets end too: they were authenticated before the revocation.
            closing = asyncio.create_task(sessions.end(key_id))
            _closing.add(closing)
            closing.add_done_callback(_closing.discard)
    if topics.RATE_CARDS_CHANGED in event.topics:
        rates.drop_cached_cards()


def drop_everything() -> None:
    api_keys.forget()
    rates.drop_cached_cards()


async def listen() -> None:
    """Run for the life of the worker (a task started by the app's lifespan)."""
    while True:
        try:
            async for event in bus.subscribe(TOPICS):
                apply(event)
        except Dropped:
            log.warning("control events may have been missed; dropping every cache")
            drop_everything()
