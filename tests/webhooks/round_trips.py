"""A counting TCP proxy in front of PostgreSQL: how many round trips the server really makes.

Every round trip of the PostgreSQL wire protocol ends with the client asking
the server for an answer: a simple ``Query`` ('Q', e.g. asyncpg's BEGIN and
COMMIT) or a ``Sync`` ('S', closing an extended-protocol exchange: Parse or
Bind/Execute). The server answers each with one ReadyForQuery. Counting 'Q'
and 'S' messages on their way to the server therefore counts the round trips
of every client (ORM, raw SQL, transactions, statement preparation) without
trusting any of them to report on itself.

The local server runs without TLS (``SHOW ssl`` is off), so an SSLRequest is
answered 'N' and the stream stays readable.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

# Untyped messages sent before StartupMessage that the server answers with one byte.
_NEGOTIATION_CODES = {80877103, 80877104}  # SSLRequest, GSSENCRequest
_ROUND_TRIP_TYPES = {ord("Q"), ord("S")}


class RoundTripCounter:
    """A proxy listening on 127.0.0.1; ``count`` is the round trips forwarded so far."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.count = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, client_reader, client_writer) -> None:
        server_reader, server_writer = await asyncio.open_connection(
            self.upstream_host, self.upstream_port
        )
        for pump in (
            self._client_to_server(client_reader, server_writer),
            self._forward(server_reader, client_writer),
        ):
            task = asyncio.create_task(pump)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _client_to_server(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            # Untyped start-up messages: length (int32, itself included) and body.
            while True:
                header = await reader.readexactly(4)
                (length,) = struct.unpack("!i", header)
                rest = await reader.readexactly(length - 4)
                writer.write(header + rest)
                await writer.drain()
                if struct.unpack("!i", rest[:4])[0] not in _NEGOTIATION_CODES:
                    break
            # Typed messages: one type byte, then length and body.
            while True:
                header = await reader.readexactly(5)
                (length,) = struct.unpack("!i", header[1:])
                rest = await reader.readexactly(length - 4)
                if header[0] in _ROUND_TRIP_TYPES:
                    self.count += 1
                writer.write(header + rest)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @staticmethod
    async def _forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()


def through(url: str, counter: RoundTripCounter) -> str:
    """``url`` with its host and port replaced by the proxy's."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    auth = netloc[0] + "@" if len(netloc) == 2 else ""
    return urlunsplit(parts._replace(netloc=f"{auth}127.0.0.1:{counter.port}"))


@asynccontextmanager
async def counting(url: str) -> AsyncIterator[tuple[RoundTripCounter, str]]:
    """A running proxy for the PostgreSQL server of ``url``, and the URL that goes through it."""
    parts = urlsplit(url)
    counter = RoundTripCounter(parts.hostname or "127.0.0.1", parts.port or 5432)
    await counter.start()
    try:
        yield counter, through(url, counter)
    finally:
        await counter.stop()
