"""Events across processes: every worker publishes to Redis and fans Redis out locally.

A worker delivers its own events to its own subscribers at once (so they do
not depend on Redis), and publishes them on one Redis channel tagged with its
origin; every worker's listener takes the others' events and offers them to
its local subscribers. A lost Redis connection is retried with backoff while
the server keeps serving; events published while Redis is away reach only the
worker that made them, so once the listener is back every local subscriber is
closed with 4009 ("reconnect and resync") rather than left with a silent gap.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Iterable

import redis.asyncio as redis

from backend.events.bus import Event, EventsMissed, InProcessBus
from backend.metrics import EVENTS_PUBLISH_FAILED

log = logging.getLogger("daybook.events.redis")


class RedisBus(InProcessBus):
    def __init__(self, url: str, channel: str) -> None:
        super().__init__()
        self.url = url
        self.channel = channel
        self.origin = uuid.uuid4().hex
        self._client: redis.Redis | None = None
        self._listener: asyncio.Task | None = None
        self._sender: asyncio.Task | None = None
        self._outgoing: asyncio.Queue[list[Event]] = asyncio.Queue()
        self.connected = asyncio.Event()

    async def start(self) -> None:
        # Named, so `CLIENT LIST` on Redis tells which worker a connection is.
        self._client = redis.from_url(self.url, client_name=f"daybook-{self.origin}")
        self._listener = asyncio.create_task(self._listen())
        self._sender = asyncio.create_task(self._send())

    async def stop(self) -> None:
        for task in (self._listener, self._sender):
            if task is not None:
                task.cancel()
        if self._client is not None:
            await self._client.aclose()

    def publish(self, events: Iterable[Event]) -> None:
        events = list(events)
        super().publish(events)  # this worker's subscribers, at once
        if not events or self._client is None:
            return
        # The request that committed does not wait for Redis: one sender task
        # drains the queue in order, so other workers see events in commit order.
        self._outgoing.put_nowait(events)

    async def _send(self) -> None:
        while True:
            batch = await self._outgoing.get()
            taken = 1
            while not self._outgoing.empty():
                batch += self._outgoing.get_nowait()
                taken += 1
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for event in batch:
                        pipe.publish(self.channel, _encode(event, self.origin))
                    await pipe.execute()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Redis away: counted, logged, never the request's problem
                EVENTS_PUBLISH_FAILED.inc(len(batch))
                log.error("could not publish %d events to Redis: %s", len(batch), error)
            finally:
                for _ in range(taken):
                    self._outgoing.task_done()

    async def flush(self) -> None:
        """Wait until every event published so far has been handed to Redis (tests, shutdown)."""
        await self._outgoing.join()

    async def _listen(self) -> None:
        delay = 0.1
        lost = False
        while True:
            try:
                pubsub = self._client.pubsub()
                await pubsub.subscribe(self.channel)
                self.connected.set()
                delay = 0.1
                if lost:
                    # Other workers' events published while we were away are gone:
                    # every local subscriber is told to resubscribe and re-read.
                    dropped = self.drop_all(EventsMissed)
                    log.warning("Redis listener back; %d subscribers told to resync", dropped)
                    lost = False
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    try:
                        origin, event = _decode(message["data"])
                    except (ValueError, KeyError, TypeError) as error:
                        log.error("skipping a malformed event on %s: %s", self.channel, error)
                        continue
                    if origin != self.origin:
                        InProcessBus.publish(self, [event])
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Redis gone, or anything else: keep listening
                self.connected.clear()
                lost = True
                log.warning("Redis listener lost (%s); retrying in %.1fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)


def _encode(event: Event, origin: str) -> str:
    return json.dumps(
        {"origin": origin, "kind": event.kind, "topics": list(event.topics), "data": event.data}
    )


def _decode(raw: bytes | str) -> tuple[str, Event]:
    body = json.loads(raw)
    return body["origin"], Event(body["kind"], tuple(body["topics"]), body["data"])
