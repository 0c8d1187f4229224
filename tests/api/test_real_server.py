"""A real ``daybook serve`` process over a real socket."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest

from tests.conftest import PG_ADMIN_URL
from tests.servers import daybook, running_server


async def test_the_server_answers_graphql_health_and_metrics(db):
    key = (await asyncio.to_thread(daybook, db.url, "create-admin-key")).stdout.splitlines()[-1]

    def exercise() -> None:
        with running_server(db.url) as base:
            assert httpx.get(f"{base}/healthz").json() == {"status": "ok", "database": "ok"}
            unauthorised = httpx.post(f"{base}/graphql", json={"query": "{ viewer { role } }"})
            assert unauthorised.status_code == 401
            assert unauthorised.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            made = httpx.post(
                f"{base}/graphql",
                headers={"Authorization": f"Bearer {key}"},
                json={
                    "query": 'mutation { createPartner(name: "Live", currencyCode: "USD", '
                    'dayPrice: "1") { partner { name } userErrors { code } } }'
                },
            ).json()
            assert made["data"]["createPartner"] == {"partner": {"name": "Live"}, "userErrors": []}
            assert "daybook_http_request_seconds_bucket" in httpx.get(f"{base}/metrics").text

    await asyncio.to_thread(exercise)


@pytest.fixture
async def scratch_postgres():
    """A database of its own that this test may cut off."""
    try:
        admin = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        pytest.fail(f"PostgreSQL unreachable: {error}")
    name = f"daybook_health_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin, name, PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_healthz_is_503_while_postgres_is_unreachable_and_recovers(scratch_postgres):
    admin, name, url = scratch_postgres
    assert (await asyncio.to_thread(daybook, url, "migrate")).returncode == 0
    loop = asyncio.get_running_loop()

    def in_loop(coro):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=30)

    def exercise() -> None:
        with running_server(url) as base:
            assert httpx.get(f"{base}/healthz").status_code == 200
            in_loop(admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            in_loop(
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                    name,
                )
            )
            down = httpx.get(f"{base}/healthz", timeout=10)
            assert down.status_code == 503
            assert down.json()["database"] == "unreachable"
            in_loop(admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200

    await asyncio.to_thread(exercise)
