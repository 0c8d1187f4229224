"""Configuration, read once from the environment.

Nothing here is required: with no variables set Daybook runs on a SQLite file
under ``var/`` with in-process events, which is all a single machine needs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None
    env: str
    # Largest number of connections one worker keeps to PostgreSQL.
    db_pool_size: int
    # The Redis pub/sub channel events travel on between workers.
    redis_channel: str = "daybook:events"
    # Seconds between passes of the periodic jobs inside `daybook serve`; 0 turns them off.
    jobs_interval_seconds: float = 60.0
    # GraphQL abuse limits (see backend/api/schema.py).
    max_query_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 5000
    # Largest /graphql request body, in bytes (413 past it).
    max_body_bytes: int = 1024 * 1024
    # Failed authentications allowed per client address or key prefix per window (then 429).
    auth_failures_limit: int = 20
    auth_failures_window_seconds: float = 60.0
    # The bearer token /metrics wants; in production /metrics is closed without one.
    metrics_token: str | None = None
    # --- API hardening (issue 12; backend/api/limits.py, backend/api/hygiene.py) ---
    # Largest cost of one GraphQL operation: every selected field counts 1, and what is
    # under a paged field counts once per item of its page (`first`, default page size).
    max_query_cost: int = 25_000
    # The same for a subscription, whose selection runs again at every event it delivers.
    max_subscription_cost: int = 1_000
    # Seconds a query (not a mutation) may run before it is answered QUERY_TIMEOUT; 0 = no budget.
    query_timeout_seconds: float = 10.0
    # Longest list argument, anywhere in an operation; some fields have their own maximum.
    max_list_items: int = 1000
    max_broadcast_recipients: int = 10_000
    # Deepest nesting of the JSON `variables` of a request.
    max_variables_depth: int = 20
    # Documents longer than this (characters) are parsed and validated, but never cached.
    max_cached_document_chars: int = 10_000
    # Introspection: on outside production; DAYBOOK_INTROSPECTION=1/0 decides either way.
    introspection: bool | None = None
    # The public base URL for links we hand out (Invoice.pdfUrl, the Stripe webhook URL a
    # partner gives Stripe; DAYBOOK_PUBLIC_URL); empty = relative links.
    public_url: str = ""
    # Freeze start-up objects and collect less often (backend/app.py); off to measure the difference.
    tune_gc: bool = True

    # --- Domain hardening (issue 12): secrets at rest, alert-webhook targets ---
    # Fernet keys for stored secrets, newest first (DAYBOOK_SECRET_KEYS, comma-separated):
    # the first encrypts, all decrypt. Empty: outside production, the development key
    # file below (created once); in production, start-up is refused (backend/secret_box.py).
    secret_keys: tuple[str, ...] = ()
    secret_key_file: Path = PROJECT_ROOT / "var" / "secret.key"
    # Alert webhooks may target loopback addresses (DAYBOOK_ALLOW_LOOPBACK_WEBHOOKS=1):
    # development and tests only; private, link-local and reserved ones never.
    allow_loopback_webhooks: bool = False

    # --- Payments (issue 13) ---
    # Where the Stripe SDK sends its requests (DAYBOOK_STRIPE_API_BASE): Stripe itself, or a
    # Stripe-compatible server such as localstripe in the tests.
    stripe_api_base: str = "https://api.stripe.com"
    # Every provider call: seconds before it gives up, and network retries (same idempotency key).
    stripe_timeout_seconds: float = 10.0
    stripe_max_retries: int = 2
    # Where the dashboard's browser loads Stripe.js from (DAYBOOK_STRIPE_JS_URL): Stripe's own,
    # or a stand-in such as localstripe's /js.stripe.com/v3/ in the browser tests.
    stripe_js_url: str = "https://js.stripe.com/v3/"

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def introspection_enabled(self) -> bool:
        return (not self.production) if self.introspection is None else self.introspection

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def default_sqlite_url() -> str:
    var = PROJECT_ROOT / "var"
    return f"sqlite://{var / 'daybook.sqlite3'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        database_url=os.environ.get("DAYBOOK_DATABASE_URL") or default_sqlite_url(),
        redis_url=os.environ.get("DAYBOOK_REDIS_URL") or None,
        env=os.environ.get("DAYBOOK_ENV", "development"),
        db_pool_size=int(os.environ.get("DAYBOOK_DB_POOL_SIZE", "20")),
        jobs_interval_seconds=float(os.environ.get("DAYBOOK_JOBS_INTERVAL", "60")),
        redis_channel=os.environ.get("DAYBOOK_REDIS_CHANNEL", "daybook:events"),
        tune_gc=os.environ.get("DAYBOOK_GC_TUNING", "1") != "0",
        metrics_token=os.environ.get("DAYBOOK_METRICS_TOKEN") or None,
        # Domain hardening (issue 12).
        secret_keys=tuple(
            key.strip()
            for key in os.environ.get("DAYBOOK_SECRET_KEYS", "").split(",")
            if key.strip()
        ),
        secret_key_file=Path(
            os.environ.get("DAYBOOK_SECRET_KEY_FILE") or PROJECT_ROOT / "var" / "secret.key"
        ),
        allow_loopback_webhooks=os.environ.get("DAYBOOK_ALLOW_LOOPBACK_WEBHOOKS", "0") == "1",
        **_hardening_from_environment(),
        stripe_api_base=os.environ.get("DAYBOOK_STRIPE_API_BASE") or "https://api.stripe.com",
        stripe_timeout_seconds=float(os.environ.get("DAYBOOK_STRIPE_TIMEOUT", "10")),
        stripe_max_retries=int(os.environ.get("DAYBOOK_STRIPE_MAX_RETRIES", "2")),
        stripe_js_url=os.environ.get("DAYBOOK_STRIPE_JS_URL") or "https://js.stripe.com/v3/",
    )


def _hardening_from_environment() -> dict[str, object]:
    """The API hardening settings (issue 12) that the environment sets; the rest keep defaults."""
    found: dict[str, object] = {}
    if value := os.environ.get("DAYBOOK_MAX_QUERY_COST"):
        found["max_query_cost"] = int(value)
    if value := os.environ.get("DAYBOOK_QUERY_TIMEOUT"):
        found["query_timeout_seconds"] = float(value)
    if value := os.environ.get("DAYBOOK_INTROSPECTION"):
        found["introspection"] = value not in ("0", "false", "no", "off")
    if value := os.environ.get("DAYBOOK_PUBLIC_URL"):
        found["public_url"] = value.rstrip("/")
    return found
