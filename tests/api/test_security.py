"""Findings of the outside security probe, each closed and checked through a real server."""

from __future__ import annotations

import asyncio

import httpx

from backend.domain import api_keys
from backend.settings import Settings
from tests.factories import make_tenant
from tests.servers import daybook, production_env, running_server

VIEWER = {"query": "{ viewer { role } }"}


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_failed_keys_are_throttled_per_address_and_answered_alike(db, admin):
    """Probe: 1,000 wrong keys went through in 2.4 s, and each kind of wrong key had its own message."""
    t = await make_tenant(admin)
    limit = Settings.auth_failures_limit
    wrong_secret = t.customer.key[:-4] + "AAAA"  # the right prefix, a wrong secret

    def probe() -> None:
        with running_server(db.url) as base:
            answers = [
                httpx.post(f"{base}/graphql", json=VIEWER, headers=_bearer(key))
                for key in ("dbk_nothing", "dbk_" + "a" * 12 + "_" + "b" * 43, wrong_secret)
            ]
            # Malformed, unknown and wrong: one status, one message.
            assert {a.status_code for a in answers} == {401}
            assert {a.json()["errors"][0]["message"] for a in answers} == {api_keys.INVALID_KEY}
            for n in range(limit - len(answers)):
                bad = "dbk_" + f"{n:012d}" + "_" + "x" * 43
                assert (
                    httpx.post(f"{base}/graphql", json=VIEWER, headers=_bearer(bad)).status_code
                    == 401
                )
            throttled = httpx.post(f"{base}/graphql", json=VIEWER, headers=_bearer(wrong_secret))
            assert throttled.status_code == 429
            assert (
                1 <= int(throttled.headers["retry-after"]) <= Settings.auth_failures_window_seconds
            )
            # From this address even a good key waits: the address is what was guessing.
            assert (
                httpx.post(
                    f"{base}/graphql", json=VIEWER, headers=_bearer(t.partner.key)
                ).status_code
                == 429
            )
            assert httpx.get(f"{base}/healthz").status_code == 200

    await asyncio.to_thread(probe)


async def test_bodies_are_limited_and_every_answer_has_security_headers(db, admin):
    t = await make_tenant(admin)

    def probe() -> None:
        with running_server(db.url) as base:
            big = "{ viewer { role } }" + " " * (1024 * 1024)
            for headers in ({}, {"Transfer-Encoding": "chunked"}):
                response = httpx.post(
                    f"{base}/graphql",
                    content=(f'{{"query": "{big}"}}').encode()
                    if not headers
                    else iter([b'{"query": "', big.encode(), b'"}']),
                    headers={
                        **_bearer(t.partner.key),
                        "Content-Type": "application/json",
                        **headers,
                    },
                )
                assert response.status_code == 413
                assert response.json()["errors"][0]["extensions"]["code"] == "BODY_TOO_LARGE"
            answers = [
                httpx.post(f"{base}/graphql", json=VIEWER, headers=_bearer(t.partner.key)),
                httpx.post(f"{base}/graphql", json=VIEWER),
                httpx.get(f"{base}/healthz"),
                httpx.get(f"{base}/invoices/1.pdf", headers=_bearer(t.partner.key)),
            ]
            assert [a.status_code for a in answers] == [200, 401, 200, 404]
            for answer in answers:
                assert answer.headers["x-content-type-options"] == "nosniff"
                assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
                assert answer.headers["referrer-policy"] == "no-referrer"
                assert "strict-transport-security" not in answer.headers
            behind_https = httpx.get(f"{base}/healthz", headers={"X-Forwarded-Proto": "https"})
            assert behind_https.headers["strict-transport-security"].startswith("max-age=")

    await asyncio.to_thread(probe)


async def test_metrics_want_a_token_and_are_closed_in_production_without_one(db):
    await asyncio.to_thread(daybook, db.url, "migrate")

    def probe() -> None:
        with running_server(db.url, env=production_env()) as base:
            assert httpx.get(f"{base}/metrics").status_code == 404
        with running_server(db.url, env={"DAYBOOK_METRICS_TOKEN": "scrape-me"}) as base:
            assert httpx.get(f"{base}/metrics").status_code == 401
            wrong = httpx.get(f"{base}/metrics", headers=_bearer("guess"))
            assert wrong.status_code == 401
            scraped = httpx.get(f"{base}/metrics", headers=_bearer("scrape-me"))
            assert scraped.status_code == 200 and "daybook_http_requests_total" in scraped.text

    await asyncio.to_thread(probe)
