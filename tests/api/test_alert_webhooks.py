"""Alert webhooks: signed POSTs to a real local receiver, retried with backoff for 24 hours."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from backend.domain import alert_webhooks
from backend.domain.models import AlertDelivery
from backend.domain.unit_of_work import drain_after_commit
from tests.factories import PURCHASE_DAYS, make_tenant

REGISTER = """mutation($p: ID!, $u: String!) { registerAlertWebhook(partnerId: $p, url: $u) {
  webhook { id url } secret userErrors { field code } } }"""
# The receivers here listen on 127.0.0.1, which only this setting lets a webhook reach.
pytestmark = pytest.mark.usefixtures("allow_loopback_webhooks")

THRESHOLD = """mutation($p: ID!, $d: Int) { setLowDaysThreshold(partnerId: $p, days: $d) { userErrors { code } } }"""


class Receiver:
    """An integrator's endpoint on 127.0.0.1: records requests, answers ``status``."""

    def __init__(self) -> None:
        self.status = 200
        self.location: str | None = None  # sent with the answer (a redirect)
        self.requests: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/daybook-alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


async def test_alerts_are_posted_signed(admin, receiver, frozen_clock):
    t = await make_tenant(admin)
    payload = await t.partner.mutate(REGISTER, {"p": t.partner_id, "u": receiver.url})
    secret = payload["secret"]
    await t.partner.mutate(THRESHOLD, {"p": t.partner_id, "d": 10})  # balance 0 < 10: LOW_DAYS
    await drain_after_commit()
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Daybook-Signature"] == expected
    assert json.loads(body)["kind"] == "LOW_DAYS" and json.loads(body)["partnerId"] == t.partner_id
    # The resolution is sent too.
    await admin.mutate(PURCHASE_DAYS, {"partnerId": t.partner_id, "days": 20, "comment": "refill"})
    await drain_after_commit()
    assert json.loads(receiver.requests[1][1])["resolvedAt"] is not None
    data = await t.partner.data(
        "query($p: ID!) { partner(id: $p) { alertWebhooks { edges { node {"
        " deliveries { edges { node { status attempts } } } } } } } }",
        {"p": t.partner_id},
    )
    nodes = [
        e["node"]
        for e in data["partner"]["alertWebhooks"]["edges"][0]["node"]["deliveries"]["edges"]
    ]
    assert nodes == [{"status": "DELIVERED", "attempts": 1}] * 2


async def test_failures_are_retried_with_backoff_then_given_up(admin, receiver, frozen_clock):
    t = await make_tenant(admin)
    await t.partner.mutate(REGISTER, {"p": t.partner_id, "u": receiver.url})
    receiver.status = 503
    await t.partner.mutate(THRESHOLD, {"p": t.partner_id, "d": 10})
    await drain_after_commit()
    delivery = await AlertDelivery.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("PENDING", 1, 503)
    assert delivery.next_attempt_at == frozen_clock.now() + timedelta(seconds=30)
    assert await alert_webhooks.retry_due() == 0  # not yet
    frozen_clock.advance(timedelta(seconds=31))
    assert await alert_webhooks.retry_due() == 1
    await delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert delivery.next_attempt_at == frozen_clock.now() + timedelta(seconds=60)
    # The receiver recovers: the next attempt delivers.
    receiver.status = 204
    frozen_clock.advance(timedelta(seconds=61))
    await alert_webhooks.retry_due()
    await delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("DELIVERED", 3)

    # Another alert to a receiver that stays down is given up after 24 hours.
    receiver.status = 500
    await t.partner.mutate(THRESHOLD, {"p": t.partner_id, "d": None})  # resolved: a new delivery
    await drain_after_commit()
    for _ in range(20):
        frozen_clock.advance(timedelta(hours=3))
        await alert_webhooks.retry_due()
    last = await AlertDelivery.all().order_by("-id").first()
    assert last.status == "FAILED" and last.attempts > 5


async def test_bad_urls_and_strangers_are_refused(admin, receiver):
    a = await make_tenant(admin, "A")
    b = await make_tenant(admin, "B")
    for url in ("ftp://example.com/x", "not a url", "http://", "javascript:alert(1)"):
        assert await a.partner.user_errors(REGISTER, {"p": a.partner_id, "u": url}) == [
            "INVALID_ARGUMENT"
        ]
    assert await a.partner.user_errors(REGISTER, {"p": b.partner_id, "u": receiver.url}) == [
        "NOT_FOUND"
    ]
    assert await a.customer.user_errors(REGISTER, {"p": a.partner_id, "u": receiver.url}) == [
        "FORBIDDEN"
    ]
    hook = (await b.partner.mutate(REGISTER, {"p": b.partner_id, "u": receiver.url}))["webhook"]
    remove = "mutation($h: ID!) { removeAlertWebhook(webhookId: $h) { webhook { removedAt } userErrors { code } } }"
    assert await a.partner.user_errors(remove, {"h": hook["id"]}) == ["NOT_FOUND"]
    assert (await b.partner.mutate(remove, {"h": hook["id"]}))["webhook"]["removedAt"]
    await b.partner.mutate(THRESHOLD, {"p": b.partner_id, "d": 5})
    await drain_after_commit()
    assert receiver.requests == []  # a removed webhook receives nothing


async def test_an_alert_is_posted_once_even_when_the_jobs_loop_races_the_first_attempt(
    admin, receiver
):
    t = await make_tenant(admin)
    await t.partner.mutate(REGISTER, {"p": t.partner_id, "u": receiver.url})
    await t.partner.mutate(THRESHOLD, {"p": t.partner_id, "d": 10})
    await alert_webhooks.retry_due()  # races the after-commit task
    await drain_after_commit()
    await alert_webhooks.retry_due()
    assert len(receiver.requests) == 1
    assert await t.partner.user_errors(REGISTER, {"p": t.partner_id, "u": "http://a\x01b/x"}) == [
        "INVALID_ARGUMENT"
    ]
