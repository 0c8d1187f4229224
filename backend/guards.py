"""HTTP guards in front of the app: security headers, body limits, throttled authentication.

Each is a small ASGI middleware or helper, configured once from ``Settings``:

- ``SecurityHeaders`` sends ``X-Content-Type-Options``, a ``frame-ancestors``
  policy, ``Referrer-Policy`` on every response, and HSTS when the request
  came over HTTPS (directly or, per ``X-Forwarded-Proto``, through a proxy).
- ``BodyLimit`` refuses a ``/graphql`` body over ``max_body_bytes`` with 413
  before anything parses it, counting what arrives, not what is declared.
- ``FailedLogins`` counts failed authentications per client address and per
  key prefix; past the limit a client is answered 429 with ``Retry-After``
  until its window has passed (per worker, in memory).
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def _came_over_https(scope: Scope) -> bool:
    if scope.get("scheme") in ("https", "wss"):
        return True
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-proto":
            return value.split(b",")[0].strip().lower() == b"https"
    return False


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(SECURITY_HEADERS)
        if _came_over_https(scope):
            extra.append(HSTS)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                headers = list(message.get("headers", ()))
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def too_large(limit: int) -> JSONResponse:
    return JSONResponse(
        {
            "errors": [
                {
                    "message": f"The body is over {limit:,} bytes.",
                    "extensions": {"code": "BODY_TOO_LARGE"},
                }
            ]
        },
        status_code=413,
    )


class BodyLimit:
    """Read at most ``limit`` bytes of a request to ``paths``; more is a 413, parsed by nobody."""

    def __init__(self, app: ASGIApp, *, limit: int, paths: tuple[str, ...]) -> None:
        self.app = app
        self.limit = limit
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await too_large(self.limit)(scope, receive, send)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await too_large(self.limit)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class FailedLogins:
    """Failed authentications in a sliding window, per client address and per key prefix."""

    def __init__(self, *, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, who: str, now: float) -> deque[float]:
        failures = self._failures.get(who)
        if failures is None:
            return deque()
        while failures and now - failures[0] > self.window:
            failures.popleft()
        if not failures:
            del self._failures[who]
        return failures

    def retry_after(self, *who: str) -> int | None:
        """Seconds until the busiest of ``who`` may try again, or None if none is throttled."""
        now = time.monotonic()
        waits = []
        for name in who:
            failures = self._recent(name, now)
            if len(failures) >= self.limit:
                waits.append(self.window - (now - failures[-self.limit]))
        return math.ceil(max(waits)) if waits else None

    def failed(self, *who: str) -> None:
        now = time.monotonic()
        if len(self._failures) > 100_000:  # a flood of distinct names: start again
            self._failures.clear()
        for name in who:
            self._failures.setdefault(name, deque()).append(now)


def throttled(retry_after: int) -> JSONResponse:
    return JSONResponse(
        {
            "errors": [
                {
                    "message": "Too many failed authentications; try again later.",
                    "extensions": {"code": "TOO_MANY_REQUESTS"},
                }
            ]
        },
        status_code=429,
        headers={"Retry-After": str(max(1, retry_after))},
    )


def client_address(scope: Scope) -> str:
    client: Any = scope.get("client")
    return f"addr:{client[0]}" if client else "addr:unknown"


def json_depth(value: Any) -> int:
    """How deeply a parsed JSON value nests (a scalar is 0), walked without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        current, depth = pending.pop()
        if isinstance(current, dict):
            current = list(current.values())
        if isinstance(current, list):
            deepest = max(deepest, depth + 1)
            pending.extend((item, depth + 1) for item in current)
    return deepest
