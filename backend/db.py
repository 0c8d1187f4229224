"""Database wiring: the Tortoise configuration, start-up and shutdown.

Hot-path SQL lives in the domain modules that own it (``domain/movements.py``);
this module only knows how to reach the database and which dialect it speaks.
Transactions, and what follows their commit, are ``domain/unit_of_work.py``.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from tortoise import Tortoise, connections
from tortoise.backends.base import executor
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url

from backend.settings import Settings, get_settings

ModelT = TypeVar("ModelT")

MODELS_MODULE = "backend.domain.models"
MIGRATIONS_MODULE = "backend.migrations"


def _private_file(path: Path) -> None:
    """The SQLite file readable and writable by its owner only (mode 0600).

    SQLite would create it with the process umask, often world-readable; the
    books and the stored secrets are nobody else's. An empty file is a new
    database to SQLite, and it gives the WAL and shared-memory files it makes
    later the database file's own mode.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(descriptor)
    os.chmod(path, 0o600)


def _normalise_url(settings: Settings) -> str:
    url = settings.database_url
    if url.startswith("postgresql://"):
        url = "postgres://" + url[len("postgresql://") :]
    if url.startswith("postgres://") and "maxsize=" not in url:
        url += ("&" if "?" in url else "?") + f"minsize=1&maxsize={settings.db_pool_size}"
    if url.startswith("sqlite://"):
        path = url[len("sqlite://") :].split("?", 1)[0]
        if path not in (":memory:", "") and not path.startswith(":"):
            _private_file(Path(path))
        if "?" not in url:
            # WAL (Tortoise's default) + NORMAL: no fsync per commit, never a torn
            # database; busy_timeout lets the CLI and the server share the file.
            url += "?synchronous=NORMAL&busy_timeout=5000"
    return url


async def release_connection(conn: asyncpg.Connection) -> None:
    """What the pool does when a connection goes back (asyncpg's ``reset`` hook).

    asyncpg's default sends ``RESET ALL; UNLISTEN *; CLOSE ALL; ...`` on every
    release: one more round trip per ORM query, as Tortoise acquires a pooled
    connection per statement. Daybook keeps no session state (no SET, LISTEN,
    cursors or session advisory locks), so only an open transaction - a bug -
    needs undoing.
    """
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


def _connection_config(settings: Settings) -> str | dict[str, Any]:
    url = _normalise_url(settings)
    if not url.startswith("postgres://"):
        return url
    config = expand_db_url(url)
    config["credentials"]["reset"] = release_connection
    return config


def tortoise_config(settings: Settings | None = None) -> dict[str, Any]:
    settings = settings or get_settings()
    return {
        "connections": {"default": _connection_config(settings)},
        "apps": {
            "models": {
                "models": [MODELS_MODULE],
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# Read by the `tortoise` CLI (`tortoise makemigrations`) through pyproject.toml.
TORTOISE_ORM = tortoise_config()


async def init_db(settings: Settings | None = None) -> None:
    # Tortoise caches each model's INSERT text by connection *name*, not by
    # dialect; a process that moves between SQLite and PostgreSQL (the test
    # suite, the benchmarks) must start from an empty cache.
    executor.EXECUTOR_CACHE.clear()
    # Global fallback: uvicorn runs the lifespan in one task and requests in
    # others; without it Tortoise's per-task context is invisible to requests.
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)


async def close_db() -> None:
    await Tortoise.close_connections()


async def run_migrations(settings: Settings | None = None) -> None:
    """Apply every migration not yet applied (what `daybook migrate` does)."""
    from tortoise.migrations.api import migrate

    try:
        await migrate(config=tortoise_config(settings))
    finally:
        await close_db()


def connection() -> BaseDBAsyncClient:
    return connections.get("default")


def is_postgres(conn: BaseDBAsyncClient | None = None) -> bool:
    conn = conn or connection()
    return conn.capabilities.dialect == "postgres"


_PLACEHOLDER = re.compile(r"\$(\d+)")


def db_datetime(conn: BaseDBAsyncClient, at: datetime) -> datetime | str:
    """A timestamp as the driver wants it in hand-written SQL: asyncpg takes aware
    datetimes, SQLite the ISO text Tortoise itself stores."""
    if is_postgres(conn):
        return at
    return at.isoformat(sep=" ")


def dialect_sql(conn: BaseDBAsyncClient, sql: str) -> str:
    """Write SQL once with PostgreSQL's ``$n`` placeholders; SQLite reads them as ``?n``."""
    if is_postgres(conn):
        return sql
    return _PLACEHOLDER.sub(r"?\1", sql)


async def fetch_row(sql: str, params: list[Any]) -> dict[str, Any] | None:
    """One row of a hand-written query (``$n`` placeholders), or None.

    For the few lookups on every request (the API key, the wallet being
    moved), where building the query through the ORM costs more CPU than the
    database takes to answer it.
    """
    conn = connection()
    rows = await conn.execute_query_dict(dialect_sql(conn, sql), params)
    return rows[0] if rows else None


def model_from_row(model: type[ModelT], row: dict[str, Any]) -> ModelT:
    """A model instance from a full row, converted exactly as the ORM's own reads do."""
    return model._init_from_db(**row)


def row_of(instance: Any) -> dict[str, Any]:
    """A model instance as its row: column name -> value (what an event carries)."""
    return {
        column: getattr(instance, name)
        for name, column in instance._meta.fields_db_projection.items()
    }
