"""The ``daybook`` command line."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import click

from backend.db import close_db, init_db, run_migrations
from backend.domain import reactions
from backend.settings import Settings, get_settings


def _with_db(body: Callable[[], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        await init_db()
        reactions.install()
        try:
            return await body()
        finally:
            await close_db()

    return asyncio.run(run())


def _require_secret_keys() -> None:
    """Refuse to go on without a key for stored secrets (production), with what to do."""
    from backend import secret_box

    try:
        secret_box.load_keys(get_settings())
    except secret_box.SecretKeyMissing as missing:
        raise click.ClickException(str(missing)) from missing


def default_workers(settings: Settings) -> int:
    """One worker per core where several can work together, else one.

    Measured on 2 cores with PostgreSQL on the same box (bench/ledger.py, 64
    connections): 1 worker ~860-1,200 debits/s, 2 workers ~1,480/s, 3 ~1,200/s,
    4 ~780/s, the CPU per debit rising with every worker past the core count.
    Several workers need PostgreSQL (SQLite is one writer behind a file lock)
    and Redis (without it, a subscriber on one worker never hears a movement
    made on another).
    """
    if settings.is_sqlite or not settings.redis_url:
        return 1
    return os.cpu_count() or 1


@click.group()
def main() -> None:
    """Daybook: prepaid billing core for WhatsApp Business API platforms."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Worker processes. Default: one per CPU core on PostgreSQL with Redis, else 1.",
)
def serve(host: str, port: int, workers: int | None) -> None:
    """Serve the API (GraphQL, health, metrics) with uvicorn."""
    import uvicorn

    _require_secret_keys()
    if workers is None:
        workers = default_workers(get_settings())

    uvicorn.run(
        "backend.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=3000, show_default=True, type=int)
@click.option(
    "--api-url",
    default=None,
    help="The API the dashboard talks to [default: $DAYBOOK_API_URL or :8080]",
)
def dashboard(host: str, port: int, api_url: str | None) -> None:
    """Serve the partner dashboard (Reflex, production build), a client of the API."""
    import os

    from backend.settings import PROJECT_ROOT

    # The dashboard lives in its own environment (frontend/launch.py says why);
    # its launcher is stdlib only, so this process just hands over to it.
    argv = [sys.executable, "-m", "frontend.launch", "--host", host, "--port", str(port)]
    if api_url:
        argv += ["--api-url", api_url]
    os.chdir(PROJECT_ROOT)
    os.execv(sys.executable, argv)


@main.command()
def migrate() -> None:
    """Create or update the database schema."""
    from backend.domain.rates import load_shipped_rate_card

    _require_secret_keys()
    asyncio.run(run_migrations())
    click.echo(f"migrated {get_settings().database_url.split('@')[-1]}")
    card = _with_db(load_shipped_rate_card)
    if card is not None:
        click.echo(f"loaded Meta's USD rate card, effective {card.effective_from:%Y-%m-%d}")


@main.command("create-admin-key")
def create_admin_key() -> None:
    """Make a new ADMIN API key and print it (alone, on the last line)."""
    from backend.domain import api_keys
    from backend.domain.models import Role

    issued = _with_db(lambda: api_keys.issue(Role.ADMIN))
    click.echo("New ADMIN key (shown once; only its hash is stored):")
    click.echo(issued.secret)


@main.command("seed-demo")
def seed_demo() -> None:
    """Create a demo partner with customers and money (once), and print a fresh key for it."""
    from backend.seed import seed

    summary = _with_db(seed)
    click.echo(summary)


@main.command()
@click.option("--loop", is_flag=True, help="Keep running, one pass every --interval seconds.")
@click.option("--interval", default=60.0, show_default=True, type=float)
def jobs(loop: bool, interval: float) -> None:
    """Run the periodic jobs (channel expiry and its alerts) once, or forever with --loop."""
    from backend.jobs import runner

    if loop:
        _with_db(lambda: runner.run_forever(interval))
        return
    for name, report in _with_db(runner.run_once).items():
        click.echo(f"{name}: {report}")


@main.command("rotate-secrets")
def rotate_secrets() -> None:
    """Re-encrypt every stored secret with the first key of DAYBOOK_SECRET_KEYS."""
    from backend import secret_box
    from backend.domain.unit_of_work import transaction

    _require_secret_keys()

    async def rotate() -> int:
        async with transaction() as conn:
            return await secret_box.rotate_stored(conn)

    try:
        count = _with_db(rotate)
    except secret_box.SecretUnreadable as unreadable:
        raise click.ClickException(
            f"{unreadable}: keep every old key in DAYBOOK_SECRET_KEYS until rotation is done"
        ) from unreadable
    click.echo(f"re-encrypted {count} stored secret(s) with the first key")


@main.command()
def verify() -> None:
    """Check the ledger invariants; exit 1 on any breach."""
    from backend.domain.verify import find_breaches

    breaches = _with_db(find_breaches)
    for breach in breaches:
        click.echo(str(breach), err=True)
    if breaches:
        click.echo(f"{len(breaches)} breach(es) of the ledger invariants", err=True)
        sys.exit(1)
    click.echo("ledger invariants hold")


if __name__ == "__main__":
    main()
