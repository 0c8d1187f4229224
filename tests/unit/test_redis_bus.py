"""The Redis event bus against the real Redis on 127.0.0.1:6379 (never skipped)."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as redis

from backend.events.bus import Event, EventsMissed
from backend.events.redis_bus import RedisBus
from tests.conftest import REDIS_URL


async def _kill_connections_of(bus: RedisBus) -> int:
    """Cut the worker's Redis connections from the server side, as a Redis restart would."""
    admin = redis.from_url(REDIS_URL)
    try:
        killed = 0
        for client in await admin.client_list():
            if client.get("name") == f"daybook-{bus.origin}":
                killed += (
                    await admin.execute_command("CLIENT", "KILL", "ID", client["id"]) == b"OK" or 1
                )
        return killed
    finally:
        await admin.aclose()


async def test_events_cross_workers_and_a_reconnect_tells_subscribers_to_resync(redis_channel):
    here, there = RedisBus(REDIS_URL, redis_channel), RedisBus(REDIS_URL, redis_channel)
    await here.start()
    await there.start()
    try:
        await asyncio.wait_for(asyncio.gather(here.connected.wait(), there.connected.wait()), 5)
        stream = aiter(here.subscribe(["wallet:1"]))
        there.publish([Event("balance", ("wallet:1",), {"entry_id": 7})])
        received = await asyncio.wait_for(anext(stream), 5)
        assert received.data == {"entry_id": 7}

        assert await _kill_connections_of(here) >= 1
        # The listener notices, reconnects with backoff, and then drops the
        # subscriber: events from `there` may have gone by in the gap.
        with pytest.raises(EventsMissed):
            await asyncio.wait_for(anext(stream), 10)
        assert here.connected.is_set()

        # A new subscription after the reconnect hears the other worker again.
        fresh = aiter(here.subscribe(["wallet:1"]))
        there.publish([Event("balance", ("wallet:1",), {"entry_id": 8})])
        assert (await asyncio.wait_for(anext(fresh), 5)).data == {"entry_id": 8}
    finally:
        await here.stop()
        await there.stop()
