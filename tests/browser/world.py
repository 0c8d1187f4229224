"""Test data made through the public API, as an integrator would: partners, customers,
channels, money and conversations rich enough for every page to mean something."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.servers import ROOT, env_for


class Api:
    """GraphQL over HTTP with a given key; fails the test on any transport or GraphQL error."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.Client(timeout=60)

    def __call__(self, key: str, query: str, variables: dict[str, Any] | None = None) -> dict:
        response = self.http.post(
            f"{self.base}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {key}"},
        )
        body = response.json()
        assert response.status_code == 200 and not body.get("errors"), body
        return body["data"]

    def mutate(self, key: str, query: str, variables: dict[str, Any], name: str) -> dict:
        payload = self(key, query, variables)[name]
        assert payload["userErrors"] == [], payload["userErrors"]
        return payload

    def batch(self, key: str, calls: list[str], size: int = 25) -> list[dict]:
        """Many mutations, ``size`` aliases per request (the server allows 30)."""
        results = []
        for start in range(0, len(calls), size):
            chunk = calls[start : start + size]
            document = "mutation {" + " ".join(f"m{i}: {c}" for i, c in enumerate(chunk)) + "}"
            data = self(key, document)
            for i in range(len(chunk)):
                payload = data[f"m{i}"]
                assert not payload.get("userErrors"), payload["userErrors"]
                results.append(payload)
        return results


@dataclass
class Tenant:
    partner_id: str
    key: str
    customers: list[dict[str, str]] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)


_numbers = itertools.count(1000)


def phone() -> str:
    """A valid, unique US number: the API refuses numbers libphonenumber calls invalid."""
    n = next(_numbers)
    return f"+1{415 + n // 10000}555{n % 10000:04d}"


CREATE_CHANNEL = (
    'createChannel(customerId: "{c}", name: "{name}", phoneNumber: "{p}"{trial}) '
    "{{ channel {{ id }} userErrors {{ code message }} }}"
)


def history_partner(database_url: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "tests.browser.history", database_url],
        cwd=ROOT,
        env=env_for(database_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def furnish(api: Api, admin: str, made: dict) -> Tenant:
    """The demo partner: channels in every state, money, alerts thresholds, 30 days of spend."""
    tenant = Tenant(made["partner"], made["key"], made["customers"])
    key = tenant.key
    api.mutate(
        key,
        "mutation($p: ID!) { setLowDaysThreshold(partnerId: $p, days: 150) { userErrors { code message } } }",
        {"p": tenant.partner_id},
        "setLowDaysThreshold",
    )
    calls = []
    for customer in tenant.customers:
        for label in ("Support", "Sales"):
            calls.append(
                CREATE_CHANNEL.format(
                    c=customer["id"], name=f"{customer['name']} {label}", p=phone(), trial=""
                )
            )
    created = api.batch(key, calls)
    tenant.channels = [c["channel"]["id"] for c in created]
    # Most get a month; two get 2 days (expiring soon); one stays PENDING.
    items = [{"channelId": cid, "days": 30} for cid in tenant.channels[:-3]]
    items += [{"channelId": cid, "days": 2} for cid in tenant.channels[-3:-1]]
    api.mutate(
        key,
        "mutation($items: [ExtendChannelItem!]!) { extendChannels(items: $items, "
        'comment: "Monthly renewal, order 1002") { userErrors { code message } } }',
        {"items": items},
        "extendChannels",
    )
    trial = api.batch(
        key,
        [
            CREATE_CHANNEL.format(
                c=tenant.customers[0]["id"], name="Pop-up line", p=phone(), trial=", trial: true"
            )
        ],
    )
    tenant.channels.append(trial[0]["channel"]["id"])
    money = ["250.00", "120.00", "60.00", "18.00"]
    for customer, amount in zip(tenant.customers, money, strict=False):
        api.batch(
            key,
            [
                f'topUpWallet(walletId: "{customer["wallet"]}", amount: "{amount}", '
                f'comment: "Bank transfer") {{ userErrors {{ code message }} }}',
                f'setLowBalanceThreshold(walletId: "{customer["wallet"]}", threshold: "20.00") '
                "{ userErrors { code message } }",
            ],
        )
    api.batch(
        key,
        [
            f'configureAutoRecharge(walletId: "{tenant.customers[1]["wallet"]}", input: '
            '{enabled: true, threshold: "30.00", amount: "100.00", dailyCap: "300.00"}) '
            "{ userErrors { code message } }"
        ],
    )
    _conversations(api, key, tenant)
    return tenant


def _conversations(api: Api, key: str, tenant: Tenant) -> None:
    """Charged conversations spread over the last 30 days, for the spend chart and the ledger."""
    now = datetime.now(UTC)
    categories = ["MARKETING", "UTILITY", "AUTHENTICATION", "SERVICE"]
    recipients = ["+14155550188", "+442071838750", "+4915112345678", "+33612345678"]
    calls = []
    for n in range(48):
        channel = tenant.channels[n % 4]  # the first customers' active channels
        opened = (now - timedelta(days=29 - (n * 29) // 47, hours=n % 7)).isoformat()
        calls.append(
            f'recordConversation(channelId: "{channel}", externalId: "conv-{n}", '
            f'category: {categories[n % 4]}, recipient: "{recipients[n % 4]}", '
            f'openedAt: "{opened}") {{ userErrors {{ code message }} }}'
        )
    api.batch(key, calls)


def bulk_partner(api: Api, admin: str, customers: int = 200, channels: int = 1000) -> Tenant:
    """The benchmark's partner: 200 customers and 1,000 active channels."""
    made = api.mutate(
        admin,
        'mutation { createPartner(name: "Bulk Reseller", currencyCode: "USD", dayPrice: "0.30") '
        "{ partner { id } apiKey userErrors { code message } } }",
        {},
        "createPartner",
    )
    tenant = Tenant(made["partner"]["id"], made["apiKey"])
    api.mutate(
        admin,
        'mutation($p: ID!) { purchaseDays(partnerId: $p, days: 100000, comment: "Bulk") '
        "{ userErrors { code message } } }",
        {"p": tenant.partner_id},
        "purchaseDays",
    )
    made_customers = api.batch(
        tenant.key,
        [
            f'createCustomer(partnerId: "{tenant.partner_id}", name: "Customer {i:03d}") '
            "{ customer { id wallet { id } } userErrors { code message } }"
            for i in range(customers)
        ],
    )
    tenant.customers = [
        {"id": c["customer"]["id"], "wallet": c["customer"]["wallet"]["id"]} for c in made_customers
    ]
    per = channels // customers
    calls = [
        CREATE_CHANNEL.format(c=c["id"], name=f"Line {i}-{j}", p=phone(), trial="")
        for i, c in enumerate(tenant.customers)
        for j in range(per)
    ]
    tenant.channels = [c["channel"]["id"] for c in api.batch(tenant.key, calls)]
    for start in range(0, len(tenant.channels), 200):
        items = [
            {"channelId": cid, "days": 3 + (n % 60)}
            for n, cid in enumerate(tenant.channels[start : start + 200])
        ]
        api.mutate(
            tenant.key,
            "mutation($items: [ExtendChannelItem!]!) { extendChannels(items: $items, "
            'comment: "Bulk allocation") { userErrors { code message } } }',
            {"items": items},
            "extendChannels",
        )
    api.batch(
        tenant.key,
        [
            f'topUpWallet(walletId: "{c["wallet"]}", amount: "{10 + i % 90}.25") '
            "{ userErrors { code message } }"
            for i, c in enumerate(tenant.customers)
        ],
    )
    return tenant


def card_shop(api: Api, admin: str, api_url: str, stripe_server: str) -> Tenant:
    """A partner of its own (so the demo's sandbox auto-recharge stays as it is) with its Stripe
    account connected at localstripe, one customer, and the platform's account for buying days;
    each webhook registered at localstripe, as an operator does in Stripe's dashboard."""
    from tests.payments.conftest import CONNECT, PUBLISHABLE_KEY, SECRET_KEY

    made = api.mutate(
        admin,
        'mutation { createPartner(name: "Card Shop", currencyCode: "USD", dayPrice: "2.50") '
        "{ partner { id } apiKey userErrors { code message } } }",
        {},
        "createPartner",
    )
    tenant = Tenant(made["partner"]["id"], made["apiKey"])
    customer = api.mutate(
        tenant.key,
        'mutation($p: ID!) { createCustomer(partnerId: $p, name: "Corner Bakery") '
        "{ customer { id wallet { id } } apiKey userErrors { code message } } }",
        {"p": tenant.partner_id},
        "createCustomer",
    )
    tenant.customers = [
        {
            "id": customer["customer"]["id"],
            "wallet": customer["customer"]["wallet"]["id"],
            "key": customer["apiKey"],
        }
    ]
    secret = "whsec_card_shop"
    api.mutate(
        tenant.key,
        CONNECT,
        {"p": tenant.partner_id, "s": SECRET_KEY, "k": PUBLISHABLE_KEY, "w": secret},
        "connectStripe",
    )
    api.mutate(
        admin,
        CONNECT,
        {"p": None, "s": SECRET_KEY, "k": "pk_test_platform", "w": "whsec_platform"},
        "connectStripe",
    )
    hooks = [
        ("card_shop", f"{api_url}/webhooks/stripe/{tenant.partner_id}", secret),
        ("platform", f"{api_url}/webhooks/stripe/platform", "whsec_platform"),
    ]
    for name, url, hook_secret in hooks:
        registered = httpx.post(
            f"{stripe_server}/_config/webhooks/{name}",
            data={"url": url, "secret": hook_secret},
            auth=(SECRET_KEY, ""),
        )
        registered.raise_for_status()
    return tenant
