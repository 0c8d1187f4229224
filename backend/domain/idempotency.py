"""Idempotency keys (design rule 3): a retried mutation moves nothing twice.

``run_once`` claims ``(scope, key)`` with an INSERT ... ON CONFLICT DO NOTHING
inside the same transaction as the movement. A concurrent retry's INSERT waits
on PostgreSQL for the first transaction to finish; if it committed, the retry
finds the record and answers with the first call's result, if it rolled back
(a userError), the retry claims the key itself. So twenty simultaneous
requests with one key make exactly one movement.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from backend.db import db_datetime, dialect_sql
from backend.domain import validation
from backend.domain.clock import clock
from backend.domain.errors import IdempotencyKeyReused, InvalidArgument
from backend.domain.unit_of_work import transaction

MAX_KEY_LENGTH = 200

Action = Callable[[BaseDBAsyncClient], Awaitable[dict[str, Any]]]


def request_fingerprint(operation: str, request: dict[str, Any]) -> str:
    canonical = json.dumps({"op": operation, "input": request}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = validation.free_text(key, field="idempotencyKey")
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise InvalidArgument(
            f"An idempotency key is 1 to {MAX_KEY_LENGTH} non-blank characters.",
            field="idempotency_key",
        )
    return key


async def run_once(
    *,
    scope: str,
    key: str | None,
    operation: str,
    request: dict[str, Any],
    action: Action,
) -> tuple[dict[str, Any], bool]:
    """Run ``action`` in a transaction at most once per ``(scope, key)``.

    Returns the action's JSON-able result and whether it was replayed from an
    earlier call. A DomainError raised by the action rolls everything back,
    key included, so a corrected retry may use the same key.
    """
    key = validate_key(key)
    if key is None:
        async with transaction() as conn:
            return await action(conn), False

    fingerprint = request_fingerprint(operation, request)
    async with transaction() as conn:
        claimed = await conn.execute_query_dict(
            dialect_sql(
                conn,
                "INSERT INTO idempotency_records (scope, key, operation, request_hash, created_at)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope, key) DO NOTHING RETURNING id",
            ),
            [scope, key, operation, fingerprint, db_datetime(conn, clock.now())],
        )
        if claimed:
            result = await action(conn)
            await conn.execute_query(
                dialect_sql(conn, "UPDATE idempotency_records SET result = $1 WHERE id = $2"),
                [json.dumps(result), claimed[0]["id"]],
            )
            return result, False
        rows = await conn.execute_query_dict(
            dialect_sql(
                conn,
                "SELECT operation, request_hash, result FROM idempotency_records"
                " WHERE scope = $1 AND key = $2",
            ),
            [scope, key],
        )
    record = rows[0]
    if record["request_hash"] != fingerprint or record["operation"] != operation:
        raise IdempotencyKeyReused(
            "This idempotency key was already used for a different request.",
            field="idempotency_key",
        )
    return json.loads(record["result"]), True
