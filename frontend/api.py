"""The dashboard's only way to Daybook: the public GraphQL API over HTTP and graphql-transport-ws.

The dashboard never touches the database. Queries and mutations go over HTTP
with one pooled ``httpx`` client per event loop (a fresh TCP + TLS handshake
per request would dominate the latency of a page load); subscriptions go over
``gql``'s websockets transport, the key in ``connection_init`` exactly as the
contract says.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

API_URL = os.environ.get("DAYBOOK_API_URL", "http://127.0.0.1:8080").rstrip("/")
GRAPHQL_URL = f"{API_URL}/graphql"
TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class ApiError(Exception):
    """The API refused or failed a request; ``message`` is for people."""

    def __init__(self, message: str, code: str = "API_ERROR") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class Unauthorized(ApiError):
    """The key is missing, unknown or revoked (HTTP 401, or 4403 on the websocket)."""


class LiveRefused(ApiError):
    """The API closed the live connection for a reason a retry will not cure (4429: too many)."""


READY = "__ready__"  # yielded by ``subscribe`` once every subscription has been sent


def close_code(error: BaseException) -> int | None:
    """The websocket close code behind a transport error, if there is one in its chain."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        received = getattr(current, "rcvd", None)
        code = getattr(received, "code", None)
        if isinstance(code, int):
            return code
        current = current.__cause__ or current.__context__
    return None


@dataclass(frozen=True)
class UserError:
    field: str
    code: str
    message: str


_clients: dict[int, httpx.AsyncClient] = {}


def _client() -> httpx.AsyncClient:
    # httpx clients are bound to the loop that first used them; Reflex may run
    # handlers on more than one loop (workers, tests), so one client per loop.
    loop_id = id(asyncio.get_running_loop())
    client = _clients.get(loop_id)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(timeout=TIMEOUT)
        _clients[loop_id] = client
    return client


def _headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def graphql(key: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run one query or mutation; return ``data`` or raise ``ApiError``/``Unauthorized``."""
    try:
        response = await _client().post(
            GRAPHQL_URL,
            json={"query": query, "variables": variables or {}},
            headers=_headers(key),
        )
    except httpx.TransportError as error:
        raise ApiError(
            f"The Daybook API at {API_URL} cannot be reached ({type(error).__name__}).",
            "UNREACHABLE",
        ) from error
    if response.status_code == 401:
        raise Unauthorized("This API key is not valid (unknown or revoked).", "UNAUTHENTICATED")
    try:
        body = response.json()
    except ValueError as error:
        raise ApiError(f"The API answered HTTP {response.status_code}.") from error
    errors = body.get("errors")
    if errors:
        first = errors[0]
        code = (first.get("extensions") or {}).get("code", "API_ERROR")
        raise ApiError(first.get("message", "The API refused the request."), code)
    return body["data"]


async def download(key: str, path: str, params: dict[str, str] | None = None) -> bytes:
    """GET a file the API serves behind the same key (CSV exports, invoice PDFs)."""
    try:
        response = await _client().get(
            f"{API_URL}{path}", params=params or {}, headers=_headers(key)
        )
    except httpx.TransportError as error:
        raise ApiError(f"The Daybook API at {API_URL} cannot be reached.", "UNREACHABLE") from error
    if response.status_code == 401:
        raise Unauthorized("This API key is not valid (unknown or revoked).", "UNAUTHENTICATED")
    if response.status_code != 200:
        message = f"The download failed (HTTP {response.status_code})."
        try:
            message = response.json()["errors"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError):
            pass
        raise ApiError(message)
    return response.content


def user_errors(payload: dict[str, Any], default_field: str = "form") -> list[UserError]:
    """The payload's userErrors, each tied to the form control it names.

    ``field`` is a path such as ``["days"]`` or ``["items", "2", "channelId"]``;
    the dashboard shows the error next to the control named by the last
    non-numeric element, or next to the form's submit button when there is none.
    """
    found = []
    for error in payload.get("userErrors") or []:
        path = [part for part in (error.get("field") or []) if not part.isdigit()]
        field = path[-1] if path else default_field
        found.append(UserError(field=field, code=error["code"], message=error["message"]))
    return found


def websocket_url() -> str:
    if API_URL.startswith("https://"):
        return "wss://" + API_URL.removeprefix("https://") + "/graphql"
    return "ws://" + API_URL.removeprefix("http://") + "/graphql"


async def subscribe(
    key: str, subscriptions: dict[str, str]
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """Yield ``(name, data)`` from several subscriptions multiplexed on one websocket.

    One graphql-transport-ws connection carries every subscription of the page
    (the server counts subscriptions per key, and one socket is cheaper than
    four). Returns when the connection closes; the caller reconnects.
    """
    transport = WebsocketsTransport(
        url=websocket_url(),
        init_payload={"Authorization": f"Bearer {key}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        connect_timeout=5,
        ack_timeout=5,
        # Pings keep idle proxies from closing a quiet connection.
        ping_interval=20,
        pong_timeout=10,
    )
    try:
        async for item in _subscribe(transport, subscriptions):
            yield item
    except (ApiError, asyncio.CancelledError):
        raise
    except Exception as error:
        code = close_code(error)
        if code in (4401, 4403):
            raise Unauthorized(
                "The API refused this key for live updates.", "UNAUTHENTICATED"
            ) from error
        if code == 4429:
            raise LiveRefused(
                "Live updates are off: this API key has too many live connections open "
                "(close other dashboard tabs, then reload).",
                "TOO_MANY_SUBSCRIPTIONS",
            ) from error
        raise


async def _subscribe(
    transport: WebsocketsTransport, subscriptions: dict[str, str]
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    queue: asyncio.Queue[tuple[str, dict[str, Any]] | BaseException] = asyncio.Queue()

    async with Client(transport=transport, fetch_schema_from_transport=False) as session:

        async def pump(name: str, document: str) -> None:
            try:
                async for data in session.subscribe(gql(document)):
                    await queue.put((name, data))
            except BaseException as error:  # forwarded so the consumer sees why it stopped
                await queue.put(error)
                raise

        tasks = [asyncio.create_task(pump(n, d)) for n, d in subscriptions.items()]
        try:
            # Every subscribe message is on the wire once gql has a listener for it; from
            # then on events queue up here while the caller fetches its snapshot.
            listeners = getattr(transport, "listeners", None)
            for _ in range(500):  # at most 5 s; gql registers a listener after each send
                if listeners is None or len(listeners) >= len(tasks) or not queue.empty():
                    break
                await asyncio.sleep(0.01)
            yield READY, {}
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
