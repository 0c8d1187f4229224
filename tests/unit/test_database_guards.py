"""The database itself refuses what would break the ledger, whatever code tries."""

from __future__ import annotations

import asyncpg
import pytest
from tortoise.exceptions import IntegrityError, OperationalError

from backend.db import connection
from tests.factories import PURCHASE_DAYS, make_tenant

# PostgreSQL's RAISE from the append-only trigger arrives untranslated by Tortoise.
REFUSED = (IntegrityError, OperationalError, asyncpg.PostgresError)


async def test_ledger_entries_cannot_be_updated_or_deleted(admin):
    t = await make_tenant(admin, funds="10")
    await admin.mutate(PURCHASE_DAYS, {"partnerId": t.partner_id, "days": 5, "comment": "x"})
    conn = connection()
    for sql in (
        "UPDATE ledger_entries SET amount_micros = 1",
        "DELETE FROM ledger_entries",
        "UPDATE day_entries SET days = 1000",
        "DELETE FROM day_entries",
    ):
        with pytest.raises(REFUSED):
            await conn.execute_script(sql)
    rows = await conn.execute_query_dict("SELECT amount_micros FROM ledger_entries")
    assert rows == [{"amount_micros": 10_000_000}]


async def test_check_constraints_hold(admin):
    t = await make_tenant(admin, funds="10")
    conn = connection()
    for sql in (
        f"UPDATE partners SET day_balance = -1 WHERE id = {t.partner_id}",
        f"UPDATE wallets SET held_micros = -1 WHERE id = {t.wallet_id}",
        f"UPDATE wallets SET credit_limit_micros = -5 WHERE id = {t.wallet_id}",
        "INSERT INTO ledger_entries (wallet_id, kind, amount_micros, balance_after_micros, created_at)"
        f" VALUES ({t.wallet_id}, 'TOP_UP', 0, 0, CURRENT_TIMESTAMP)",
        "INSERT INTO api_keys (prefix, key_hash, role, partner_id, created_at)"
        f" VALUES ('dbk_x', 'h', 'ADMIN', {t.partner_id}, CURRENT_TIMESTAMP)",
        "INSERT INTO idempotency_records (scope, key, operation, request_hash, created_at)"
        " VALUES ('s', 'k', 'o', 'h', CURRENT_TIMESTAMP), ('s', 'k', 'o', 'h', CURRENT_TIMESTAMP)",
    ):
        with pytest.raises(REFUSED):
            await conn.execute_script(sql)
