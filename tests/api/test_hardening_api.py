"""Findings 4, 5, 6, 7, 9 and 10 (amounts) of the outside security probe, each closed.

Through the real Starlette app in-process where a socket does not matter, and
through a real ``daybook serve`` where it does (``/healthz`` while a costly
query is refused).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import time
from datetime import UTC, datetime

import httpx
import pytest
from graphql import OperationDefinitionNode, parse
from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.extensions.validation_cache import _get_validate_cache

import frontend.queries
from backend.api.limits import operation_cost
from backend.api.pagination import MAX_PAGE_SIZE
from backend.api.schema import build_schema
from backend.app import create_app
from backend.settings import Settings
from tests.conftest import GraphQLClient
from tests.factories import PURCHASE_DAYS, TOP_UP, make_tenant
from tests.servers import running_server

NESTED_PAGES = """{ partner(id: "%s") { customers(first: 200) { edges { node {
  channels(first: 200) { edges { node { id name status } } } } } } } }"""


def _codes(body: dict) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


async def _app_client(settings: Settings, key: str, **headers: str) -> httpx.AsyncClient:
    app = create_app(settings, manage_db=False)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://daybook.test", headers=headers
    )


# ---- 4. cost limit and time budget ---------------------------------------------


async def test_a_costly_query_is_refused_before_it_runs_and_healthz_stays_responsive(db, admin):
    """Probe: 30 aliases of nested connections cost 23 s of CPU; /healthz took 13 s meanwhile."""
    t = await make_tenant(admin)
    selection = NESTED_PAGES % t.partner_id
    inner = selection.strip()[1:-1]
    aliased = "{ " + " ".join(f"a{n}: {inner}" for n in range(30)) + " }"

    def probe() -> None:
        with running_server(db.url) as base:
            headers = {"Authorization": f"Bearer {admin.key}"}
            with httpx.Client(base_url=base, timeout=30) as client:
                for query in (selection, aliased):
                    answer = client.post("/graphql", json={"query": query}, headers=headers)
                    assert answer.status_code == 200
                    body = answer.json()
                    assert body["data"] is None
                    assert _codes(body) == ["QUERY_TOO_COSTLY"], body
                    assert body["errors"][0]["extensions"]["maximum"] == Settings.max_query_cost
                started = time.monotonic()
                assert client.get("/healthz").status_code == 200
                assert time.monotonic() - started < 2
                # A modest page of the same shape is still answered.
                modest = selection.replace("first: 200", "first: 10")
                answer = client.post("/graphql", json={"query": modest}, headers=headers)
                assert not answer.json().get("errors"), answer.text

    await asyncio.to_thread(probe)


def test_every_dashboard_query_is_within_the_cost_limit():
    """The dashboard's own documents, with the largest page it may ask for, stay accepted."""
    schema = build_schema(Settings(database_url="sqlite://:memory:", redis_url=None, env="test",
                                   db_pool_size=1))._schema  # fmt: skip
    costs = {}
    for name in dir(frontend.queries):
        text = getattr(frontend.queries, name)
        if not isinstance(text, str) or not text.strip().startswith(("query", "mutation")):
            continue
        document = parse(text)
        for operation in document.definitions:
            assert isinstance(operation, OperationDefinitionNode)
            pages = {
                d.variable.name.value: MAX_PAGE_SIZE
                for d in operation.variable_definitions or ()
                if d.variable.name.value == "first"
            }
            costs[name] = operation_cost(schema, document, operation, pages)
    assert len(costs) >= 20, sorted(costs)
    too_costly = {name: cost for name, cost in costs.items() if cost > Settings.max_query_cost}
    assert too_costly == {}
    # ...and the cost model sees nesting: the customers list is the dearest page it sends.
    assert max(costs, key=costs.get) == "CUSTOMERS"


def test_every_dashboard_subscription_is_within_the_subscription_cost_limit():
    schema = build_schema(Settings(database_url="sqlite://:memory:", redis_url=None, env="test",
                                   db_pool_size=1))._schema  # fmt: skip
    costs = {}
    for name in dir(frontend.queries):
        text = getattr(frontend.queries, name)
        if isinstance(text, str) and text.strip().startswith("subscription"):
            document = parse(text)
            costs[name] = operation_cost(schema, document, document.definitions[0], {})
    assert len(costs) >= 4, sorted(costs)
    assert {n: c for n, c in costs.items() if c > Settings.max_subscription_cost} == {}


async def test_a_query_past_its_time_budget_is_stopped_but_a_mutation_is_not(db, admin):
    t = await make_tenant(admin)
    hurried = dataclasses.replace(db.settings(), query_timeout_seconds=1e-9)
    async with await _app_client(hurried, "") as http:
        client = GraphQLClient(http, t.partner.key)
        body = await client.execute(
            "query($id: ID!) { partner(id: $id) { customers { edges { node { id } } } } }",
            {"id": t.partner_id},
        )
        assert body["data"] is None
        assert _codes(body) == ["QUERY_TIMEOUT"]
        # Mutations are never cut off half-way: the budget is for reads.
        payload = await client.mutate(TOP_UP, {"walletId": t.wallet_id, "amount": "5"})
        assert payload["wallet"]["balance"]["amount"] == "5.00"


# ---- 5. caches and big lists --------------------------------------------------------


async def test_big_documents_are_never_cached(admin):
    parsed, validated = _get_parse_cache(1024), _get_validate_cache(1024)
    small = f"{{ viewer {{ role }} }} # small {time.time()}"
    big = "{ viewer { role } }" + " " * (Settings.max_cached_document_chars + 1)
    await admin.data(small)
    before = parsed.cache_info().currsize, validated.cache_info().currsize
    await admin.data(big)
    await admin.data(big)
    assert (parsed.cache_info().currsize, validated.cache_info().currsize) == before
    assert parsed.cache_info().currsize >= 1


async def test_oversized_list_arguments_are_refused_before_any_work(admin):
    t = await make_tenant(admin)
    await admin.mutate(PURCHASE_DAYS, {"partnerId": t.partner_id, "days": 100, "comment": "stock"})
    items = [{"channelId": str(n + 1), "days": 1} for n in range(Settings.max_list_items + 1)]
    body = await t.partner.execute(
        """mutation($items: [ExtendChannelItem!]!) {
             extendChannels(items: $items, comment: "bulk") { userErrors { code } } }""",
        {"items": items},
    )
    assert body["data"] is None and _codes(body) == ["TOO_MANY_ITEMS"], body
    assert body["errors"][0]["extensions"]["field"] == ["items"]

    recipients = [f"+1555{n:07d}" for n in range(Settings.max_broadcast_recipients + 1)]
    body = await t.partner.execute(
        """mutation($r: [String!]!) { authorizeBroadcast(channelId: "1", category: MARKETING,
             recipients: $r) { userErrors { code } } }""",
        {"r": recipients},
    )
    assert body["data"] is None and _codes(body) == ["TOO_MANY_ITEMS"], body
    assert body["errors"][0]["extensions"]["maximum"] == Settings.max_broadcast_recipients
    # Nothing moved.
    data = await t.partner.data(
        "query($id: ID!) { partner(id: $id) { dayBalance } }", {"id": t.partner_id}
    )
    assert data["partner"]["dayBalance"] == 100


# ---- 6. odd input --------------------------------------------------------------------


async def test_odd_bodies_get_a_400_never_a_500(http, admin):
    headers = {"Authorization": f"Bearer {admin.key}", "content-type": "application/json"}
    deep = "1"
    for _ in range(1000):
        deep = f"[{deep}]"
    less_deep = json.dumps({"a": json.loads("[" * 50 + "1" + "]" * 50)})
    for body in (
        "null",
        '"x"',
        "12",
        json.dumps({"query": "query($a: String) { viewer { role } }"})[:-1]
        + f', "variables": {{"a": {deep}}}}}',
        json.dumps({"query": "{ viewer { role } }"})[:-1] + f', "variables": {less_deep}}}',
    ):
        answer = await http.post("/graphql", content=body, headers=headers)
        assert answer.status_code == 400, (body[:40], answer.text)


async def test_odd_arguments_get_a_coded_error_and_change_nothing(
    http, admin, frozen_clock, assert_ledger_invariants
):
    t = await make_tenant(admin, funds="10")
    huge_cursor = base64.urlsafe_b64encode(b"id:99999999999999999999999").decode()
    body = await t.partner.execute(
        "query($id: ID!, $after: String) { partner(id: $id) { customers(after: $after) "
        "{ edges { cursor } } } }",
        {"id": t.partner_id, "after": huge_cursor},
    )
    assert _codes(body) == ["INVALID_ARGUMENT"], body

    codes = await admin.user_errors(
        'mutation { generateInvoices(period: "9999-12") { userErrors { code } } }'
    )
    assert codes == ["INVALID_PERIOD"]

    body = await admin.execute('query($c: String!) { rates(currencyCode: $c) { market } }',
                               {"c": "A" * 10_000})  # fmt: skip
    assert _codes(body) == ["INVALID_CURRENCY"]
    assert "AAAA" not in body["errors"][0]["message"]

    # Normalising these to UTC leaves datetime's range: they are its ends.
    for since in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        data = await t.partner.data(
            """query($id: ID!, $since: DateTime!, $w: ID!) {
                 partner(id: $id) { dayEntries(since: $since) { edges { cursor } } }
                 wallet(id: $w) { entries(since: $since) { edges { cursor } } } }""",
            {"id": t.partner_id, "since": since, "w": t.wallet_id},
        )
        everything = since.startswith("0001")
        assert bool(data["wallet"]["entries"]["edges"]) is everything
        for path in (
            f"/partners/{t.partner_id}/day-entries.csv",
            f"/wallets/{t.wallet_id}/entries.csv",
        ):
            answer = await http.get(
                path, params={"since": since}, headers={"Authorization": f"Bearer {t.partner.key}"}
            )
            assert answer.status_code == 200, answer.text
    await assert_ledger_invariants()


async def test_ambiguous_documents_and_subscriptions_over_http_are_refused(http, admin):
    headers = {"Authorization": f"Bearer {admin.key}"}
    two = 'query A { viewer { role } } mutation B { revokeApiKey(keyPrefix: "x") { userErrors { code } } }'
    body = (await http.post("/graphql", json={"query": two}, headers=headers)).json()
    assert body["data"] is None and _codes(body) == ["OPERATION_NAME_REQUIRED"], body
    named = (
        await http.post("/graphql", json={"query": two, "operationName": "A"}, headers=headers)
    ).json()
    assert named["data"] == {"viewer": {"role": "ADMIN"}}

    subscription = 'subscription { balanceChanged(walletId: "1") { wallet { id } } }'
    answer = await http.post("/graphql", json={"query": subscription}, headers=headers)
    assert answer.status_code == 400
    assert "Internal server error" not in answer.text


# ---- 7. production mode ---------------------------------------------------------------


async def test_production_hides_the_schema_and_logs_no_rejected_document(db, admin, caplog):
    production = dataclasses.replace(db.settings(), env="production")
    introspect = "{ __schema { queryType { name } } }"
    secret = "SECRET-IN-THE-DOCUMENT"
    rejected = '{ viewer { role } viewerr(x: "' + secret + " " * 20_000 + '") }'
    headers = {"Authorization": f"Bearer {admin.key}"}
    async with await _app_client(production, "", **headers) as http:
        body = (await http.post("/graphql", json={"query": introspect})).json()
        assert body["data"] is None and "introspection" in body["errors"][0]["message"].lower()
        with caplog.at_level(logging.INFO):
            body = (await http.post("/graphql", json={"query": rejected})).json()
        message = body["errors"][0]["message"]
        assert "viewerr" in message and "Did you mean" not in message
        assert secret not in caplog.text
        assert all(len(record.getMessage()) < 1000 for record in caplog.records)
        # Suggestions go for variables too (an enum value one letter off).
        body = (
            await http.post(
                "/graphql",
                json={
                    "query": "query($s: InvoiceStatus) { invoices(status: $s) { edges { cursor } } }",
                    "variables": {"s": "OPNE"},
                },
            )
        ).json()
        assert body["errors"] and "Did you mean" not in json.dumps(body)
    switched_on = dataclasses.replace(production, introspection=True)
    async with await _app_client(switched_on, "", **headers) as http:
        body = (await http.post("/graphql", json={"query": introspect})).json()
        assert body["data"]["__schema"]["queryType"]["name"] == "Query"
    # Outside production, introspection and suggestions stay for developers.
    async with await _app_client(db.settings(), "", **headers) as http:
        body = (await http.post("/graphql", json={"query": "{ viewerr { role } }"})).json()
        assert "Did you mean" in body["errors"][0]["message"]


# ---- 9. links never from the Host header -------------------------------------------------

INVOICE_PDF_URLS = """mutation { generateInvoices(period: "2026-02") {
  invoices { id pdfUrl } userErrors { code } } }"""


async def test_pdf_url_comes_from_the_configured_public_url_never_the_host_header(
    db, admin, frozen_clock
):
    frozen_clock.set(datetime(2026, 2, 1, tzinfo=UTC))
    t = await make_tenant(admin)
    plan = await t.partner.mutate(
        """mutation { createPlan(name: "Basic", monthlyFee: "10", currencyCode: "USD",
             taxRatePercent: "0") { plan { id } userErrors { code } } }"""
    )
    await t.partner.mutate(
        """mutation($p: ID!, $plan: ID) { createCustomer(partnerId: $p, name: "Billed",
             planId: $plan) { customer { id } userErrors { code } } }""",
        {"p": t.partner_id, "plan": plan["plan"]["id"]},
    )
    frozen_clock.set(datetime(2026, 3, 2, tzinfo=UTC))
    evil = {"Authorization": f"Bearer {t.partner.key}", "Host": "evil.example"}
    async with await _app_client(db.settings(), "", **evil) as http:
        answer = await http.post("/graphql", json={"query": INVOICE_PDF_URLS})
        invoices = answer.json()["data"]["generateInvoices"]["invoices"]
        assert invoices
        for invoice in invoices:
            assert invoice["pdfUrl"] == f"/invoices/{invoice['id']}.pdf"
        assert "evil.example" not in answer.text
    public = dataclasses.replace(db.settings(), public_url="https://billing.example.com")
    async with await _app_client(public, "", **evil) as http:
        answer = await http.post("/graphql", json={"query": INVOICE_PDF_URLS})
        for invoice in answer.json()["data"]["generateInvoices"]["invoices"]:
            assert invoice["pdfUrl"] == f"https://billing.example.com/invoices/{invoice['id']}.pdf"


# ---- 10. amounts only as decimal strings --------------------------------------------------


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (TOP_UP, {"amount": 25}),
        (TOP_UP, {"amount": 25.5}),
        (
            "mutation($walletId: ID!) { topUpWallet(walletId: $walletId, amount: 25) "
            "{ userErrors { code } } }",
            {},
        ),
        (
            "mutation($walletId: ID!) { topUpWallet(walletId: $walletId, amount: 12.5) "
            "{ userErrors { code } } }",
            {},
        ),
    ],
)
async def test_amounts_are_accepted_only_as_decimal_strings(admin, document, variables):
    t = await make_tenant(admin)
    body = await t.partner.execute(document, {"walletId": t.wallet_id, **variables})
    assert body.get("data") is None and body["errors"], body
    assert "strings" in body["errors"][0]["message"]
    data = await t.partner.data(
        "query($id: ID!) { wallet(id: $id) { balance { amount } } }", {"id": t.wallet_id}
    )
    assert data["wallet"]["balance"]["amount"] == "0.00"
    payload = await t.partner.mutate(TOP_UP, {"walletId": t.wallet_id, "amount": "25"})
    assert payload["wallet"]["balance"]["amount"] == "25.00"
