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

log = logging.getLogger("daybook.events.redis")


class RedisBus(InProcessBus):
    def __init__(self, url: str, channel: str) -> None:
        super().__init__()
        self.url = url
        self.channel = channel
        self.origin = uuid.uuid4().hex
        self._client: redis.Redis | None = None
        self._listener: asyncio.Task | None = None
        self.connected = asyncio.Event()

    async def start(self) -> None:
        # Named, so `CLIENT LIST` on Redis tells which worker a connection is.
        self._client = redis.from_url(self.url, client_name=f"daybook-{self.origin}")
        self._listener = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
        if self._client is not None:
            await self._client.aclose()

    async def publish(self, events: Iterable[Event]) -> None:
        events = list(events)
        await super().publish(events)  # this worker's subscribers, at once
        if not events or self._client is None:
            return
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for event in events:
                    pipe.publish(self.channel, _encode(event, self.origin))
                await pipe.execute()
        except (redis.RedisError, OSError) as error:
            log.error("could not publish %d events to Redis: %s", len(events), error)

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
                        await InProcessBus.publish(self, [event])
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
