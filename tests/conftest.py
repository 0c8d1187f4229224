"""Test harness: every database test runs on SQLite and on a real PostgreSQL.

- ``database`` (session scope, parametrised ``sqlite`` / ``postgres``) makes a
  fresh database for this run, migrates it with the real migrations, and drops
  it at the end. PostgreSQL is the one on 127.0.0.1:5432; when it cannot be
  reached the PostgreSQL half fails (it runs on every machine here).
- ``db`` (per test) starts each test on empty tables: a fresh copy of the
  migrated SQLite file, or TRUNCATE on PostgreSQL.
- ``api`` speaks GraphQL over HTTP to the real Starlette app (httpx ASGI
  transport); ``server`` starts a real uvicorn process when a socket is needed.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
from tortoise import Tortoise

from backend.app import create_app
from backend.db import close_db, init_db, run_migrations
from backend.domain import api_keys, reactions
from backend.domain.clock import FrozenClock, clock
from backend.domain.models import Role
from backend.domain.verify import find_breaches
from backend.settings import Settings

PG_HOST = os.environ.get("DAYBOOK_TEST_PG_HOST", "127.0.0.1")
PG_ADMIN_URL = os.environ.get("DAYBOOK_TEST_PG_URL", f"postgres://postgres@{PG_HOST}:5432/test")

ALL_TABLES = (
    "provider_events",
    "payments",
    "payment_methods",
    "payment_customers",
    "payment_accounts",
    "partner_terms_changes",
    "recharge_attempts",
    "invoice_lines",
    "invoices",
    "invoice_counters",
    "invoice_runs",
    "plan_assignments",
    "alert_deliveries",
    "alert_webhooks",
    "auto_recharge_rules",
    "webhook_events",
    "conversations",
    "hold_recipients",
    "holds",
    "rates",
    "rate_cards",
    "alerts",
    "job_leases",
    "trial_claims",
    "channel_lots",
    "ledger_entries",
    "day_entries",
    "channels",
    "idempotency_records",
    "api_keys",
    "wallets",
    "customers",
    "plans",
    "partners",
)


@dataclass
class TestDatabase:
    kind: str
    url: str
    template: Path | None = None  # SQLite: the migrated file each test copies

    def settings(self, url: str | None = None) -> Settings:
        return Settings(database_url=url or self.url, redis_url=None, env="test", db_pool_size=40)


async def _postgres_reachable() -> str | None:
    try:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        return f"{type(error).__name__}: {error}"
    await conn.close()
    return None


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path_factory) -> AsyncIterator[TestDatabase]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
        test_db = TestDatabase("sqlite", f"sqlite://{path}", template=path)
        await run_migrations(test_db.settings())
        yield test_db
        return

    problem = await _postgres_reachable()
    if problem:
        # PostgreSQL runs on every machine of this project (design.md): its
        # absence is a broken machine, never a reason to test less.
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is unreachable ({problem})", pytrace=False)
    name = f"daybook_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    test_db = TestDatabase("postgres", url)
    try:
        await run_migrations(test_db.settings())
        yield test_db
    finally:
        await close_db()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def db(database: TestDatabase, tmp_path: Path) -> AsyncIterator[TestDatabase]:
    """Empty, migrated tables for this test, on the session's database kind."""
    if database.kind == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(database.template, path)
        current = TestDatabase("sqlite", f"sqlite://{path}")
        await init_db(current.settings())
    else:
        current = database
        await init_db(current.settings())
        conn = Tortoise.get_connection("default")
        await conn.execute_script(f"TRUNCATE {', '.join(ALL_TABLES)} RESTART IDENTITY CASCADE")
    reactions.install()  # what the app and the CLI do at start-up
    try:
        yield current
    finally:
        clock.reset()
        await close_db()


REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_channel() -> str:
    """A fresh pub/sub channel on the real Redis at 127.0.0.1; unreachable fails the test."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        pytest.fail(f"Redis at {REDIS_URL} is unreachable: {error}")
    finally:
        client.close()
    return f"daybook-test-{uuid.uuid4().hex}"


@pytest.fixture
def allow_loopback_webhooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Alert webhooks may reach 127.0.0.1 (local receivers), as in development."""
    from backend.settings import get_settings

    monkeypatch.setenv("DAYBOOK_ALLOW_LOOPBACK_WEBHOOKS", "1")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def frozen_clock() -> Iterator[FrozenClock]:
    frozen = FrozenClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    clock.use(frozen)
    yield frozen
    clock.reset()


class GraphQLClient:
    """GraphQL over HTTP with one API key; ``as_key`` speaks as someone else."""

    def __init__(self, http: httpx.AsyncClient, key: str | None) -> None:
        self.http = http
        self.key = key

    def as_key(self, key: str | None) -> GraphQLClient:
        return GraphQLClient(self.http, key)

    async def post(self, query: str, variables: dict | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def execute(self, query: str, variables: dict | None = None) -> dict:
        """The whole response body (data and errors); HTTP must be 200."""
        response = await self.post(query, variables)
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, variables: dict | None = None) -> dict:
        """``data`` of a response that must have no GraphQL errors."""
        body = await self.execute(query, variables)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def mutate(self, query: str, variables: dict | None = None) -> dict:
        """The single mutation's payload, which must have no userErrors."""
        data = await self.data(query, variables)
        (payload,) = data.values()
        assert payload["userErrors"] == [], payload["userErrors"]
        return payload

    async def user_errors(self, query: str, variables: dict | None = None) -> list[str]:
        """The codes of the single mutation's userErrors (which must be there)."""
        data = await self.data(query, variables)
        (payload,) = data.values()
        assert payload["userErrors"], payload
        return [error["code"] for error in payload["userErrors"]]


@pytest.fixture
async def http(db: TestDatabase) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(db.settings(), manage_db=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://daybook.test") as client:
        yield client


@pytest.fixture
async def admin(http: httpx.AsyncClient) -> GraphQLClient:
    issued = await api_keys.issue(Role.ADMIN)
    return GraphQLClient(http, issued.secret)


@pytest.fixture
async def assert_ledger_invariants(db: TestDatabase):
    """Call at the end of a test (and it runs again at teardown): no invariant may be breached."""

    async def check() -> None:
        breaches = await find_breaches()
        assert breaches == [], "\n".join(map(str, breaches))

    yield check
    await check()
