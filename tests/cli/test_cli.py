"""The ``daybook`` command line, run as a real process against the test database."""

from __future__ import annotations

import asyncio
import os

from backend.db import connection
from tests.factories import make_tenant
from tests.servers import daybook


async def run(*args: str, url: str):
    return await asyncio.to_thread(daybook, url, *args)


async def test_create_admin_key_prints_a_working_key_on_its_last_line(db, http):
    result = await run("create-admin-key", url=db.url)
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("dbk_")
    response = await http.post(
        "/graphql",
        json={"query": "{ viewer { role } }"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.json() == {"data": {"viewer": {"role": "ADMIN"}}}


async def test_migrate_is_idempotent(db):
    first = await run("migrate", url=db.url)
    assert first.returncode == 0, first.stderr
    assert "migrated" in first.stdout


async def test_seed_demo_then_verify(db, http):
    result = await run("seed-demo", url=db.url)
    assert result.returncode == 0, result.stderr
    partner_key = result.stdout.strip().splitlines()[-1]
    response = await http.post(
        "/graphql",
        json={
            "query": "{ viewer { partner { name dayBalance customers(first: 50) { totalCount"
            " edges { node { invoices { edges { node { status } } } } } } } } }"
        },
        headers={"Authorization": f"Bearer {partner_key}"},
    )
    partner = response.json()["data"]["viewer"]["partner"]
    assert (partner["name"], partner["dayBalance"]) == ("Demo Reseller", 2000 - 9 * 60)
    assert partner["customers"]["totalCount"] == 6
    # Last month is invoiced: one paid from the wallet, one open, the rest drafts.
    statuses = sorted(
        invoice["node"]["status"]
        for customer in partner["customers"]["edges"]
        for invoice in customer["node"]["invoices"]["edges"]
    )
    assert statuses == ["DRAFT", "DRAFT", "DRAFT", "DRAFT", "OPEN", "PAID"]
    # One key per role, to try each view of the dashboard.
    keys = dict(
        line.split(": ", 1)
        for line in result.stdout.splitlines()
        if line.startswith(("Admin", "Customer"))
    )
    for label, role in (("Admin key", "ADMIN"), ("Customer key (Acme Bakery)", "CUSTOMER")):
        viewer = await http.post(
            "/graphql",
            json={"query": "{ viewer { role } }"},
            headers={"Authorization": f"Bearer {keys[label]}"},
        )
        assert viewer.json()["data"]["viewer"]["role"] == role
    # Seeding again adds nothing but a fresh key.
    again = await run("seed-demo", url=db.url)
    assert again.returncode == 0 and again.stdout.strip().splitlines()[-1] != partner_key
    verified = await run("verify", url=db.url)
    assert verified.returncode == 0, verified.stderr
    assert "ledger invariants hold" in verified.stdout


async def test_verify_exits_1_on_a_tampered_balance(db, admin):
    t = await make_tenant(admin, funds="10")
    await connection().execute_script(
        f"UPDATE wallets SET balance_micros = balance_micros + 1 WHERE id = {t.wallet_id}"
    )
    result = await run("verify", url=db.url)
    assert result.returncode == 1
    assert f"wallet balance != sum of its entries: id={t.wallet_id}" in result.stderr


async def test_jobs_runs_one_pass(db):
    result = await run("jobs", url=db.url)
    assert result.returncode == 0, result.stderr
    assert "channel-expiry: ExpiryReport(expired=0, warned=0)" in result.stdout


async def test_migrate_loads_metas_rate_card_on_an_empty_database(db, http, admin):
    result = await run("migrate", url=db.url)
    assert result.returncode == 0, result.stderr
    assert "loaded Meta's USD rate card, effective 2026-10-01" in result.stdout
    data = await admin.data('{ rates(market: "DE") { category market price { amount } } }')
    prices = {r["category"]: (r["market"], r["price"]["amount"]) for r in data["rates"]}
    assert prices["MARKETING"] == ("DE", "0.1365")
    again = await run("migrate", url=db.url)
    assert "loaded" not in again.stdout  # only ever on an empty database


async def test_dashboard_says_what_is_missing_when_it_cannot_start(db, tmp_path, monkeypatch):
    monkeypatch.setenv("DAYBOOK_DASHBOARD_VENV", str(tmp_path / "no-such-venv"))
    result = await run("dashboard", "--port", "39999", url=db.url)
    assert result.returncode == 1
    assert "cannot start the dashboard" in result.stderr
    assert "make install" in result.stderr


def test_serve_runs_one_worker_per_core_only_where_workers_can_share_events():
    from backend.cli import default_workers
    from backend.settings import Settings

    def settings(url: str, redis: str | None) -> Settings:
        return Settings(database_url=url, redis_url=redis, env="test", db_pool_size=5)

    postgres = "postgres://root@127.0.0.1:5432/daybook"
    assert default_workers(settings("sqlite://var/x.sqlite3", "redis://127.0.0.1:6379/0")) == 1
    assert default_workers(settings(postgres, None)) == 1
    assert default_workers(settings(postgres, "redis://127.0.0.1:6379/0")) == os.cpu_count()


async def test_the_sqlite_file_is_made_readable_by_its_owner_only(tmp_path):
    """Probe finding: the SQLite file (the books, the sealed secrets) followed the umask."""
    path = tmp_path / "fresh" / "daybook.sqlite3"
    previous = os.umask(0o022)  # the usual umask: world-readable files
    try:
        done = await asyncio.to_thread(daybook, f"sqlite://{path}", "migrate")
    finally:
        os.umask(previous)
    assert done.returncode == 0, done.stderr
    assert path.stat().st_mode & 0o777 == 0o600
    for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if companion.exists():  # SQLite gives them the database file's own mode
            assert companion.stat().st_mode & 0o777 == 0o600
