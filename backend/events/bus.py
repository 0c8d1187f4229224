"""Publish/subscribe between the code that commits a change and whoever listens.

The in-process bus fans an event out to every subscription of its topics.
Each subscription has a bounded queue: a listener that falls too far behind
is cut off (``Overflow``) instead of slowing the others or the publisher.
Topics are built by ``backend.events.topics`` (``wallet:12``); ``<kind>:*``
receives every event of that kind (ADMIN streams). Publishing never waits:
local subscribers get the event at once, and the Redis bus sends it to the
other workers from a task of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

from backend.metrics import EVENTS_PUBLISHED

log = logging.getLogger("daybook.events")

QUEUE_LIMIT = 1000


@dataclass(frozen=True)
class Event:
    """A committed change, carrying the rows its subscribers show (JSON-safe values only).

    ``kind`` is one of ``backend.events.topics``'s kinds; ``data`` holds whole
    rows (``{"wallet": {...}, "entry": {...}}``), so delivering an event reads
    nothing from the database, on this worker or any other.
    """

    kind: str
    topics: tuple[str, ...]
    data: dict[str, Any] = field(default_factory=dict)


class Dropped(Exception):
    """The subscriber can no longer trust its stream: it must resubscribe and re-read.

    ``code`` and ``reason`` are what the websocket is closed with.
    """

    code = 4008
    reason = "events were lost; reconnect and resync"


class Overflow(Dropped):
    """The subscriber fell more than QUEUE_LIMIT events behind and was dropped."""

    code = 4008
    reason = "subscriber fell too far behind; reconnect and resync"


class EventsMissed(Dropped):
    """Events from other workers may have gone by while Redis was unreachable."""

    code = 4009
    reason = "events may have been missed while the event bus reconnected; reconnect and resync"


class Subscription:
    def __init__(self, bus: InProcessBus, topics: Iterable[str]) -> None:
        self.bus = bus
        self.topics = tuple(topics)
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self.dropped: type[Dropped] | None = None

    def offer(self, event: Event) -> None:
        if self.dropped is not None:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            log.warning("subscriber on %s fell behind; dropping it", self.topics)
            self.drop(Overflow)

    def drop(self, why: type[Dropped]) -> None:
        """End the stream: the reader raises ``why`` once it reaches the end of its queue."""
        if self.dropped is not None:
            return
        self.dropped = why
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(None)  # wakes the reader

    async def __aiter__(self) -> AsyncIterator[Event]:
        try:
            while True:
                event = await self.queue.get()
                if event is None:
                    raise (self.dropped or Dropped)()
                yield event
        finally:
            self.bus.unsubscribe(self)


class InProcessBus:
    def __init__(self) -> None:
        self._subscriptions: dict[str, set[Subscription]] = {}

    def subscribe(self, topics: Iterable[str]) -> Subscription:
        subscription = Subscription(self, topics)
        for topic in subscription.topics:
            self._subscriptions.setdefault(topic, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        for topic in subscription.topics:
            listeners = self._subscriptions.get(topic)
            if listeners is not None:
                listeners.discard(subscription)
                if not listeners:
                    del self._subscriptions[topic]

    def drop_all(self, why: type[Dropped]) -> int:
        """Drop every local subscriber (their streams may have gaps); how many."""
        everyone = {sub for listeners in self._subscriptions.values() for sub in listeners}
        for subscription in everyone:
            subscription.drop(why)
        return len(everyone)

    async def flush(self) -> None:
        """Wait until what was published has left for the other workers (nothing to do here)."""

    def publish(self, events: Iterable[Event]) -> None:
        """Offer each event to this process's subscribers of its topics, at once."""
        for event in events:
            EVENTS_PUBLISHED.labels(event.kind).inc()
            delivered: set[Subscription] = set()
            for topic in (*event.topics, f"{event.kind}:*"):
                for subscription in self._subscriptions.get(topic, ()):
                    if subscription not in delivered:
                        delivered.add(subscription)
                        subscription.offer(event)


class _BusHolder:
    """The process's bus: in-process by default, Redis-backed once ``configure`` says so."""

    def __init__(self) -> None:
        self.current: InProcessBus = InProcessBus()

    def subscribe(self, topics: Iterable[str]) -> Subscription:
        return self.current.subscribe(topics)

    def unsubscribe(self, subscription: Subscription) -> None:
        self.current.unsubscribe(subscription)

    def publish(self, events: Iterable[Event]) -> None:
        self.current.publish(events)

    async def flush(self) -> None:
        await self.current.flush()

    def use(self, new_bus: InProcessBus) -> None:
        self.current = new_bus


bus = _BusHolder()
