"""Prometheus metrics, defined once for the whole process (served at ``/metrics``).

Per process: with ``daybook serve --workers N`` each worker counts its own;
scrape them behind the load balancer or use prometheus_client's multiprocess
mode.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "daybook_http_requests_total", "HTTP requests served", ["route", "method", "status"]
)
LATENCY = Histogram("daybook_http_request_seconds", "HTTP request latency", ["route"])
EVENTS_PUBLISHED = Counter(
    "daybook_events_published_total", "Events published after commit, by kind", ["kind"]
)
SUBSCRIPTIONS = Gauge("daybook_subscriptions_active", "GraphQL subscriptions open on this worker")
SUBSCRIBERS_DROPPED = Counter(
    "daybook_subscribers_dropped_total",
    "Subscriptions closed for the client to resync, by websocket close code",
    ["code"],
)
JOB_RUNS = Counter(
    "daybook_job_runs_total", "Periodic job runs, by job and outcome", ["job", "outcome"]
)
EVENTS_PUBLISH_FAILED = Counter(
    "daybook_events_publish_failed_total",
    "Events that could not be sent to the other workers (Redis unreachable)",
)
REACTIONS_FAILED = Counter(
    "daybook_reactions_failed_total",
    "Reactions to committed movements that failed (the jobs loop's sweep puts alerts right)",
)
