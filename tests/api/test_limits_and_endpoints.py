"""Abuse limits, GraphiQL, /healthz and /metrics."""

from __future__ import annotations

import httpx

from backend.app import create_app
from tests.factories import make_tenant


async def test_deeply_nested_queries_are_refused(admin):
    t = await make_tenant(admin)
    nested = "customer { partner { " * 6 + "id" + " } }" * 6
    body = await t.partner.execute(f'{{ wallet(id: "{t.wallet_id}") {{ {nested} }} }}')
    assert body["errors"] and "exceeds maximum operation depth" in body["errors"][0]["message"]
    assert body.get("data") is None


async def test_too_many_aliases_are_refused(admin):
    fields = " ".join(f"a{n}: viewer {{ role }}" for n in range(40))
    body = await admin.execute(f"{{ {fields} }}")
    assert body["errors"] and "aliases" in body["errors"][0]["message"]


async def test_oversized_documents_are_refused(admin):
    fields = " ".join("viewer { role }" for _ in range(2000))
    body = await admin.execute(f"{{ {fields} }}")
    assert body["errors"] and "token" in body["errors"][0]["message"].lower()


async def test_page_size_is_capped(admin):
    t = await make_tenant(admin)
    body = await t.partner.execute(
        f'{{ wallet(id: "{t.wallet_id}") {{ entries(first: 201) {{ totalCount }} }} }}'
    )
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"
    body = await t.partner.execute(
        f'{{ wallet(id: "{t.wallet_id}") {{ entries(after: "bogus") {{ totalCount }} }} }}'
    )
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"


async def test_graphiql_is_served_in_development_only(db):
    for env, expected in (("development", 200), ("production", 401)):
        settings = db.settings()
        settings = type(settings)(**{**settings.__dict__, "env": env})
        transport = httpx.ASGITransport(app=create_app(settings, manage_db=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/graphql", headers={"Accept": "text/html"})
        assert response.status_code == expected
        if expected == 200:
            assert "graphiql" in response.text.lower()


async def test_healthz_reports_the_database(http):
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_metrics_count_requests(http, admin):
    await admin.data("{ viewer { role } }")
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert (
        'daybook_http_requests_total{method="POST",route="/graphql",status="200"}' in response.text
    )


async def test_metrics_count_events_subscriptions_and_jobs(http, admin):
    from backend.jobs import runner
    from tests.factories import make_tenant

    await make_tenant(admin, funds="5")  # a top-up publishes a balance event after commit
    await runner.run_once()
    text = (await http.get("/metrics")).text
    assert 'daybook_events_published_total{kind="balance"}' in text
    assert "daybook_subscriptions_active" in text
    assert 'daybook_job_runs_total{job="invoice-overdue",outcome="ok"}' in text
