"""Payment tests run against a real Stripe-compatible server, localstripe, started here.

- ``localstripe`` (session): ``localstripe --port P --from-scratch`` in a
  subprocess, in a temporary directory; its base URL.
- ``stripe_env`` (per test): points ``DAYBOOK_STRIPE_API_BASE`` at it.
- ``app_server`` (per test): the real app listening on a socket (uvicorn, in
  this event loop, on the test's database), so localstripe can POST its signed
  events to ``/webhooks/stripe/...``.
- ``shop``: a partner with its Stripe account connected and its webhook
  registered at localstripe, a customer with its wallet, and their keys.

The SDK itself (``stripe.StripeClient``) plays the browser's part: it creates
a PaymentMethod from a test card number and confirms the SetupIntent or
PaymentIntent with it, as Stripe.js would.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import stripe
import uvicorn

from backend.app import create_app
from backend.domain.models import ProviderEvent
from backend.settings import get_settings
from tests.conftest import GraphQLClient
from tests.servers import free_port, stop, wait_until_up

ROOT = Path(__file__).resolve().parents[2]
LOCALSTRIPE = ROOT / ".venv" / "bin" / "localstripe"
SECRET_KEY = "sk_test_daybook"
PUBLISHABLE_KEY = "pk_test_daybook"

CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000341"  # attaches, every charge declined
CARD_AUTHENTICATE = "4000002500003155"  # requires authentication


@contextmanager
def running_localstripe(workdir: Path) -> Iterator[str]:
    """``localstripe --from-scratch`` on a free port, its state and log in ``workdir``; its URL."""
    port = free_port()
    log = (workdir / "localstripe.log").open("w")
    process = subprocess.Popen(
        [str(LOCALSTRIPE), "--port", str(port), "--from-scratch"],
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(
            process,
            lambda: httpx.get(f"{base}/v1/customers", auth=(SECRET_KEY, ""), timeout=1) is not None,
            workdir / "localstripe.log",
            "localstripe",
        )
        yield base
    finally:
        stop(process)
        log.close()


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory) -> Iterator[str]:
    with running_localstripe(tmp_path_factory.mktemp("localstripe")) as base:
        yield base


@pytest.fixture
def stripe_env(localstripe: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DAYBOOK_STRIPE_API_BASE", localstripe)
    monkeypatch.setenv("DAYBOOK_STRIPE_TIMEOUT", "5")
    monkeypatch.setenv("DAYBOOK_STRIPE_MAX_RETRIES", "1")
    get_settings.cache_clear()
    yield localstripe
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def sdk(localstripe: str) -> stripe.StripeClient:
    """The provider as the payer's browser and the tests see it (the real SDK, at localstripe)."""
    return stripe.StripeClient(
        SECRET_KEY,
        base_addresses={"api": localstripe},
        http_client=stripe.HTTPXClient(timeout=10),
    )


@pytest.fixture
async def app_server(db, stripe_env: str) -> AsyncIterator[str]:
    """The app on a socket, in this event loop and on this test's database."""
    app = create_app(db.settings(), manage_db=False)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    await until(_started(server), "the app server to listen", seconds=10)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


def _started(server: uvicorn.Server):
    async def check() -> bool:
        return server.started

    return check


async def register_webhook(localstripe: str, name: str, url: str, secret: str) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{localstripe}/_config/webhooks/{name}",
            data={"url": url, "secret": secret},
            auth=(SECRET_KEY, ""),
        )
        response.raise_for_status()


CONNECT = """
mutation($p: ID, $s: String!, $k: String!, $w: String!) {
  connectStripe(partnerId: $p, secretKey: $s, publishableKey: $k, webhookSecret: $w) {
    account { provider publishableKey webhookUrl } userErrors { field code message }
  }
}"""

CREATE_PARTNER = """
mutation($n: String!) { createPartner(name: $n, currencyCode: "USD", dayPrice: "2.50") {
  partner { id } apiKey userErrors { code } } }"""

CREATE_CUSTOMER = """
mutation($p: ID!) { createCustomer(partnerId: $p, name: "Acme") {
  customer { id wallet { id } } apiKey userErrors { code } } }"""


@dataclass
class Shop:
    partner_id: str
    customer_id: str
    wallet_id: str
    partner: GraphQLClient
    customer: GraphQLClient
    webhook_secret: str


async def open_shop(
    admin: GraphQLClient, localstripe: str, app_url: str | None, name: str, connect: bool = True
) -> Shop:
    made = await admin.mutate(CREATE_PARTNER, {"n": name})
    partner = admin.as_key(made["apiKey"])
    partner_id = made["partner"]["id"]
    customer = await partner.mutate(CREATE_CUSTOMER, {"p": partner_id})
    secret = f"whsec_{name}"
    if connect:
        await partner.mutate(
            CONNECT,
            {"p": partner_id, "s": SECRET_KEY, "k": PUBLISHABLE_KEY, "w": secret},
        )
        if app_url:
            await register_webhook(
                localstripe, name, f"{app_url}/webhooks/stripe/{partner_id}", secret
            )
    return Shop(
        partner_id=partner_id,
        customer_id=customer["customer"]["id"],
        wallet_id=customer["customer"]["wallet"]["id"],
        partner=partner,
        customer=admin.as_key(customer["apiKey"]),
        webhook_secret=secret,
    )


@pytest.fixture
async def shop(admin: GraphQLClient, localstripe: str, app_server: str) -> Shop:
    return await open_shop(admin, localstripe, app_server, "shop")


START_SETUP = """
mutation($c: ID!) { startCardSetup(customerId: $c) {
  setup { clientSecret publishableKey } userErrors { field code message } } }"""

COMPLETE_SETUP = """
mutation($c: ID!, $s: String!) { completeCardSetup(customerId: $c, setupIntentId: $s) {
  paymentMethods { id brand last4 expMonth expYear isDefault } userErrors { field code message } } }"""


async def confirm_setup(sdk: stripe.StripeClient, client_secret: str, card: str) -> str:
    """What Stripe.js does in the browser: a PaymentMethod from the card, the SetupIntent confirmed."""
    method = await sdk.v1.payment_methods.create_async(
        params={
            "type": "card",
            "card": {"number": card, "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        }
    )
    setup_id = client_secret.split("_secret_")[0]
    setup = await sdk.v1.setup_intents.confirm_async(setup_id, params={"payment_method": method.id})
    if setup.status == "requires_action":
        # The card holder passes 3-D Secure in the browser, which confirms again.
        await sdk.v1.setup_intents.confirm_async(setup_id)
    return setup_id


async def save_card(
    client: GraphQLClient, sdk: stripe.StripeClient, customer_id: str, card: str = CARD_OK
) -> list[dict]:
    setup = (await client.mutate(START_SETUP, {"c": customer_id}))["setup"]
    setup_id = await confirm_setup(sdk, setup["clientSecret"], card)
    return (await client.mutate(COMPLETE_SETUP, {"c": customer_id, "s": setup_id}))[
        "paymentMethods"
    ]


def signed(event: dict, secret: str) -> tuple[bytes, dict[str, str]]:
    """An event body and its Stripe-Signature header, signed as the provider signs."""
    body = json.dumps(event).encode()
    stamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Stripe-Signature": f"t={stamp},v1={digest}", "Content-Type": "application/json"}


async def provider_event(sdk: stripe.StripeClient, kind: str, object_id: str) -> dict:
    """The provider's own event of ``kind`` about ``object_id`` (as it sent or would send it)."""
    for _ in range(100):
        listed = await sdk.v1.events.list_async(params={"type": kind, "limit": 100})
        for event in listed.data:
            data = event.to_dict()
            if data["data"]["object"].get("id") == object_id:
                return data
        await asyncio.sleep(0.05)  # the provider's event is created as it answers
    raise AssertionError(f"no {kind} event for {object_id}")


async def until(check, what: str, seconds: float = 15.0):
    """Wait for localstripe's asynchronous delivery (it sends events ~1 s after they happen)."""
    deadline = time.monotonic() + seconds
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)  # an outside process delivering, not domain time


async def events_stored(**filters) -> int:
    return await ProviderEvent.filter(**filters).count()
