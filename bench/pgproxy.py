"""A counting TCP proxy for PostgreSQL's wire protocol, run as its own process.

It sits between a client (``daybook serve``, through DAYBOOK_DATABASE_URL) and
PostgreSQL and counts the messages the client sends, by type. A round trip is
a message after which the client waits for the server: ``S`` (Sync, the end of
an extended-protocol batch: Parse/Bind/Execute...) and ``Q`` (a simple query).
It refuses TLS and GSS encryption itself (answers ``N``), so the stream stays
readable; everything else is forwarded untouched, both ways.

Driven through its pipes: it prints ``READY <port>`` once listening; each line
``count`` on its stdin is answered with one JSON line of the totals so far
(``{"S": .., "Q": .., "P": .., "B": .., "E": .., "connections": ..}``); it exits
at the end of its stdin. ``python bench/pgproxy.py --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import struct
import sys
from collections import Counter

SSL_REQUEST = 80877103
GSS_REQUEST = 80877104

counts: Counter[str] = Counter()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def _client_to_server(
    client: asyncio.StreamReader,
    client_out: asyncio.StreamWriter,
    server_out: asyncio.StreamWriter,
) -> None:
    try:
        # Untyped start: SSLRequest/GSSENCRequest (refused here), then the StartupMessage.
        while True:
            head = await client.readexactly(8)
            length, code = struct.unpack("!ii", head)
            rest = await client.readexactly(length - 8)
            if code in (SSL_REQUEST, GSS_REQUEST):
                client_out.write(b"N")
                await client_out.drain()
                continue
            server_out.write(head + rest)
            break
        while True:
            head = await client.readexactly(5)
            kind = chr(head[0])
            (length,) = struct.unpack("!i", head[1:])
            body = await client.readexactly(length - 4)
            counts[kind] += 1
            server_out.write(head + body)
            await server_out.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        server_out.close()


async def serve(listen_port: int, upstream_host: str, upstream_port: int) -> None:
    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        counts["connections"] += 1
        up_reader, up_writer = await asyncio.open_connection(upstream_host, upstream_port)
        await asyncio.gather(_client_to_server(reader, writer, up_writer), _pump(up_reader, writer))

    server = await asyncio.start_server(accept, "127.0.0.1", listen_port)
    port = server.sockets[0].getsockname()[1]
    print(f"READY {port}", flush=True)
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    while line := await stdin.readline():
        if line.strip() == b"count":
            print(json.dumps(dict(counts)), flush=True)
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    parser.add_argument("--upstream", default="127.0.0.1:5432", help="PostgreSQL host:port")
    args = parser.parse_args()
    host, port = args.upstream.rsplit(":", 1)
    asyncio.run(serve(args.port, host, int(port)))


if __name__ == "__main__":
    main()
