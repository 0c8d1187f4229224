"""The Starlette application: GraphQL, health, metrics.

Authentication happens here, before GraphQL: a request without a valid key is
answered 401 with a JSON error and never reaches a resolver.
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from cross_web import HTTPException
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute, request_response
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError

from backend import control, exports, guards
from backend.api import sessions
from backend.api.context import Context
from backend.api.schema import build_schema
from backend.db import close_db, connection, init_db
from backend.domain import api_keys, reactions
from backend.domain.access import Principal
from backend.domain.errors import Unauthenticated
from backend.domain.unit_of_work import drain_after_commit
from backend.events.bus import bus
from backend.events.redis_bus import RedisBus
from backend.jobs import runner
from backend.metrics import LATENCY, REQUESTS
from backend.settings import Settings, get_settings
from backend.webhooks import stripe as stripe_webhook
from backend.webhooks import whatsapp

PRINCIPAL_KEY = "daybook.principal"
# Paths with ids are counted as "other" so metrics never get one label per id.
KNOWN_ROUTES = ("/graphql", "/healthz", "/metrics")


def _refused(data: str | bytes, message: str) -> Exception:
    """The error for unreadable input: an HTTP body arrives as bytes, a websocket message as text."""
    if isinstance(data, str):
        return json.JSONDecodeError(message, "", 0)
    return HTTPException(400, message)


class DaybookGraphQL(GraphQL):
    def __init__(
        self,
        *args: Any,
        failed_logins: guards.FailedLogins,
        settings: Settings,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.failed_logins = failed_logins
        self.settings = settings

    def decode_json(self, data: str | bytes) -> object:
        """An HTTP body or a websocket message: JSON, with variables nested sanely.

        Anything else is the caller's mistake: 400 over HTTP, never 500; over a
        websocket, the socket is closed with 4400 (strawberry does so for a
        message it cannot read as JSON).
        """
        try:
            body = json.loads(data)
        except RecursionError as error:
            raise _refused(data, "The request body is nested too deeply.") from error
        except UnicodeDecodeError as error:
            raise HTTPException(400, "The request body is not UTF-8.") from error
        if not isinstance(body, dict | list):
            raise HTTPException(400, "The request body must be a JSON object.")
        if isinstance(body, dict):
            variables = body.get("variables")
            payload = body.get("payload")
            if variables is None and isinstance(payload, dict):  # a graphql-transport-ws message
                variables = payload.get("variables")
            depth = guards.json_depth(variables)
            if depth > self.settings.max_variables_depth:
                raise _refused(
                    data,
                    f"variables are nested {depth} deep; at most "
                    f"{self.settings.max_variables_depth}.",
                )
        return body

    async def on_ws_connect(self, context: Context) -> None:
        """graphql-transport-ws: the key comes in connection_init; a bad one closes with 4403."""
        params = context.connection_params or {}
        authorization = params.get("Authorization") or params.get("authorization")
        who = _who(context.request.scope, authorization)
        if self.failed_logins.retry_after(*who) is not None:
            raise ConnectionRejectionError({"message": "Too many failed authentications."})
        try:
            context.principal = await api_keys.authenticate(authorization)
        except Unauthenticated as error:
            self.failed_logins.failed(*who)
            raise ConnectionRejectionError({"message": error.message}) from error
        # Revoking the key later closes this socket (backend/api/sessions.py).
        sessions.opened(context.principal.key_id, context.request)

    async def get_context(self, request: Any, response: Any) -> Context:
        # Absent only for the key-less GET that renders GraphiQL, which runs no query.
        return Context(
            principal=request.scope.get(PRINCIPAL_KEY),
            request=request,
            response=response,
            public_url=self.settings.public_url,
        )


def _unauthorized(message: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="daybook"'},
    )


def _who(scope: Scope, authorization: str | None) -> tuple[str, ...]:
    """Whose failed authentications count: the client address, and the key prefix tried."""
    prefix = api_keys.prefix_of(authorization)
    return (guards.client_address(scope), *([f"prefix:{prefix}"] if prefix else []))


class Authenticated:
    """Resolve ``Authorization: Bearer`` to a Principal, or answer 401 (429 when throttled).

    GET requests without a key are let through only to serve the GraphiQL page
    (outside production); the query they may carry still needs a key.
    """

    def __init__(
        self, app: ASGIApp, *, allow_ide: bool, failed_logins: guards.FailedLogins
    ) -> None:
        self.app = app
        self.allow_ide = allow_ide
        self.failed_logins = failed_logins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        authorization = request.headers.get("authorization")
        if (
            self.allow_ide
            and request.method == "GET"
            and not authorization
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        ):
            await self.app(scope, receive, send)
            return
        who = _who(scope, authorization)
        wait = self.failed_logins.retry_after(*who)
        if wait is not None:
            await guards.throttled(wait)(scope, receive, send)
            return
        try:
            principal: Principal = await api_keys.authenticate(authorization)
        except Unauthenticated as error:
            self.failed_logins.failed(*who)
            await _unauthorized(error.message)(scope, receive, send)
            return
        scope[PRINCIPAL_KEY] = principal
        await self.app(scope, receive, send)


class Metrics:
    """Count and time every HTTP request by route (cheap; no per-id labels)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send=capture)
        finally:
            route = scope["path"] if scope["path"] in KNOWN_ROUTES else "other"
            REQUESTS.labels(route, scope["method"], str(status["code"])).inc()
            LATENCY.labels(route).observe(time.perf_counter() - started)


async def healthz(request: Request) -> JSONResponse:
    try:
        await connection().execute_query("SELECT 1")
    except Exception as error:  # any failure to reach the database is "unhealthy"
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "error": type(error).__name__},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok"})


def metrics_endpoint(settings: Settings):
    """``/metrics``: behind ``DAYBOOK_METRICS_TOKEN`` when set; in production, closed without it."""
    expected = f"Bearer {settings.metrics_token}" if settings.metrics_token else None

    async def metrics(request: Request) -> Response:
        if expected is None and settings.production:
            return JSONResponse(
                {"error": "metrics are off: set DAYBOOK_METRICS_TOKEN to scrape them"},
                status_code=404,
            )
        if expected is not None:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return JSONResponse({"error": "metrics token required"}, status_code=401)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return metrics


def tune_garbage_collector() -> None:
    """Collect less often, and never walk what was loaded at start-up.

    Under load the collector took 19% of the CPU: a request allocates many
    short-lived objects (parsed documents, ORM rows, strawberry's results), and
    with the default gen0 threshold of 700 a full collection of the ~500,000
    objects the imports left (schema, ORM metadata, libraries) ran every 1.7 s
    for ~125 ms. ``gc.freeze`` moves those into a generation the collector
    ignores; a gen0 threshold of 50,000 lets a request finish before one runs.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def create_app(settings: Settings | None = None, *, manage_db: bool = True) -> Starlette:
    """The ASGI app. ``manage_db=False`` leaves Tortoise to the caller (tests)."""
    settings = settings or get_settings()
    reactions.install()
    failed_logins = guards.FailedLogins(
        limit=settings.auth_failures_limit, window_seconds=settings.auth_failures_window_seconds
    )
    graphql = DaybookGraphQL(
        build_schema(settings),
        graphql_ide=None if settings.production else "graphiql",
        allow_queries_via_get=False,
        failed_logins=failed_logins,
        settings=settings,
    )

    def authenticated(app: ASGIApp, *, allow_ide: bool = False) -> Authenticated:
        return Authenticated(app, allow_ide=allow_ide, failed_logins=failed_logins)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        jobs: asyncio.Task | None = None
        redis_bus = None
        if settings.redis_url:
            redis_bus = RedisBus(settings.redis_url, settings.redis_channel)
            await redis_bus.start()
            bus.use(redis_bus)
        # On the bus just chosen, before the first request, so no revocation slips past.
        control_listener = asyncio.create_task(control.listen())
        if manage_db:
            await init_db(settings)
            if settings.jobs_interval_seconds > 0:
                jobs = asyncio.create_task(runner.run_forever(settings.jobs_interval_seconds))
        if settings.tune_gc:
            tune_garbage_collector()
        try:
            yield
        finally:
            control_listener.cancel()
            if jobs is not None:
                jobs.cancel()
            await drain_after_commit()  # gateway calls and alert POSTs in flight
            if redis_bus is not None:
                await redis_bus.stop()
            if manage_db:
                await close_db()

    app = Starlette(
        routes=[
            Route(
                "/graphql",
                authenticated(graphql, allow_ide=not settings.production),
                methods=["GET", "POST"],
            ),
            WebSocketRoute("/graphql", graphql),
            Route(
                "/partners/{partner_id}/day-entries.csv",
                authenticated(request_response(exports.day_entries_csv)),
            ),
            Route(
                "/wallets/{wallet_id}/entries.csv",
                authenticated(request_response(exports.wallet_entries_csv)),
            ),
            Route(
                "/invoices/{invoice_id}.pdf",
                authenticated(request_response(exports.invoice_pdf)),
            ),
            Route("/webhooks/whatsapp/{partner_id}", whatsapp.verify, methods=["GET"]),
            Route("/webhooks/whatsapp/{partner_id}", whatsapp.receive, methods=["POST"]),
            Route("/webhooks/stripe/{owner}", stripe_webhook.receive, methods=["POST"]),
            Route("/healthz", healthz),
            Route("/metrics", metrics_endpoint(settings)),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(guards.BodyLimit, limit=settings.max_body_bytes, paths=("/graphql",))
    app.add_middleware(guards.SecurityHeaders)
    app.add_middleware(Metrics)
    return app
