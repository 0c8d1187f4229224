"""Run the periodic jobs, one runner at a time across every worker and process.

A job is run by whoever holds its lease (a row in ``job_leases``), taken with
one conditional UPDATE or INSERT, so it works the same on SQLite and
PostgreSQL and survives a worker dying (the lease simply expires).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from backend.domain import alert_webhooks, alerts, invoices, invoicing, recharge
from backend.domain.clock import clock
from backend.domain.holds import expire_holds
from backend.domain.models import JobLease
from backend.jobs.expiry import run_expiry
from backend.metrics import JOB_RUNS
from backend.webhooks.processing import retry_due

log = logging.getLogger("daybook.jobs")

JOBS: dict[str, Callable[[], Awaitable[Any]]] = {
    "channel-expiry": run_expiry,
    "hold-expiry": expire_holds,
    "webhook-retry": retry_due,
    "alert-webhooks": alert_webhooks.retry_due,
    # Recharges whose gateway answer was never recorded (same idempotency key).
    "recharge-retry": recharge.retry_stale,
    # Threshold alerts whose reaction never ran (a worker died right after a commit).
    "threshold-alerts": alerts.sweep,
    # The month before, once it is over (marked done in invoice_runs).
    "invoice-generation": invoicing.generate_previous_month,
    "invoice-overdue": invoices.mark_overdue,
}
LEASE = timedelta(minutes=5)
HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


async def take_lease(name: str, holder: str = HOLDER) -> bool:
    """True if ``holder`` now holds the lease on ``name`` (newly or still)."""
    now = clock.now()
    renewed = await JobLease.filter(name=name, holder=holder).update(expires_at=now + LEASE)
    if renewed:
        return True
    # An expired lease (its holder died) is up for grabs; the UPDATE picks one winner.
    stolen = await JobLease.filter(name=name, expires_at__lte=now).update(
        holder=holder, expires_at=now + LEASE
    )
    if stolen:
        return True
    try:
        await JobLease.create(name=name, holder=holder, expires_at=now + LEASE)
    except IntegrityError:
        return False  # someone else holds it
    return True


async def release_lease(name: str, holder: str = HOLDER) -> None:
    await JobLease.filter(name=name, holder=holder).delete()


async def run_once(holder: str = HOLDER) -> dict[str, Any]:
    """Run every job whose lease this process gets; the jobs' reports by name."""
    reports: dict[str, Any] = {}
    for name, job in JOBS.items():
        if not await take_lease(name, holder):
            reports[name] = "held by another runner"
            continue
        try:
            reports[name] = await job()
            JOB_RUNS.labels(name, "ok").inc()
        except Exception as error:  # one failing job must not stop the others this pass
            JOB_RUNS.labels(name, "failed").inc()
            log.exception("job %s failed", name)
            reports[name] = f"failed: {type(error).__name__}: {error}"
        finally:
            await release_lease(name, holder)
    return reports


async def run_forever(interval_seconds: float) -> None:
    """The loop inside ``daybook serve``: a failed pass is logged, never fatal."""
    while True:
        try:
            reports = await run_once()
            log.info("jobs: %s", reports)
        except Exception:  # keep serving; the next pass retries
            log.exception("jobs pass failed")
        await asyncio.sleep(interval_seconds)
