"""Publish/subscribe between the code that commits a change and whoever listens.

The in-process bus fans an event out to every subscription of its topics.
Each subscription has a bounded queue: a listener that falls too far behind
is cut off (``Overflow``) instead of slowing the others or the publisher.
Topics are strings such as ``wallet:12``; ``*`` on a kind (``wallet:*``)
receives every event of that kind (ADMIN streams).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("daybook.events")

QUEUE_LIMIT = 1000


@dataclass(frozen=True)
class Event:
    kind: str  # "balance", "days", "channel", "alert"
    topics: tuple[str, ...]
    data: dict[str, Any] = field(default_factory=dict)


class Overflow(Exception):
    """The subscriber fell more than QUEUE_LIMIT events behind and was dropped."""


class Subscription:
    def __init__(self, bus: InProcessBus, topics: Iterable[str]) -> None:
        self.bus = bus
        self.topics = tuple(topics)
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self.overflowed = False

    def offer(self, event: Event) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            log.warning("subscriber on %s fell behind; dropping it", self.topics)
            self.queue.get_nowait()
            self.queue.put_nowait(None)  # wakes the reader, which raises Overflow

    async def __aiter__(self) -> AsyncIterator[Event]:
        try:
            while True:
                event = await self.queue.get()
                if event is None:
                    raise Overflow("subscriber fell too far behind")
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

    async def publish(self, events: Iterable[Event]) -> None:
        for event in events:
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

    async def publish(self, events: Iterable[Event]) -> None:
        await self.current.publish(events)

    def use(self, new_bus: InProcessBus) -> None:
        self.current = new_bus


bus = _BusHolder()
