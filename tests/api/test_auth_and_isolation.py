"""API keys and tenant isolation: who may see and do what."""

from __future__ import annotations

import pytest

from backend.domain import api_keys
from backend.domain.models import ApiKey
from tests.factories import (
    ADJUST,
    CHARGE,
    CREATE_CUSTOMER,
    TOP_UP,
    make_customer,
    make_tenant,
    wallet_state,
)

VIEWER = "{ viewer { role partner { id } customer { id } } }"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic abc",
        "Bearer not-a-key",
        "Bearer dbk_aaaaaaaaaaaa_" + "x" * 43,
        "Token dbk_aaaaaaaaaaaa_" + "x" * 43,
    ],
)
async def test_missing_malformed_or_unknown_keys_get_401_json(http, db, header):
    headers = {"Authorization": header} if header is not None else {}
    response = await http.post("/graphql", json={"query": VIEWER}, headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "Traceback" not in response.text
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_revoked_key_is_refused_at_once(admin):
    t = await make_tenant(admin)
    assert (await t.customer.data(VIEWER))["viewer"]["role"] == "CUSTOMER"
    prefix = t.customer.key.split("_")[0] + "_" + t.customer.key.split("_")[1]
    payload = await t.partner.mutate(
        "mutation($p: String!) { revokeApiKey(keyPrefix: $p) { keyPrefix role userErrors { code } } }",
        {"p": prefix},
    )
    assert payload == {"keyPrefix": prefix, "role": "CUSTOMER", "userErrors": []}
    response = await t.customer.post(VIEWER)
    assert response.status_code == 401
    # The same answer as for a key that never existed: revoked keys cannot be told apart.
    assert response.json()["errors"][0]["message"] == api_keys.INVALID_KEY


async def test_keys_are_stored_hashed_and_shown_once(admin):
    t = await make_tenant(admin)
    stored = await ApiKey.filter(partner_id=int(t.partner_id), customer_id=None).first()
    assert t.partner.key not in (stored.key_hash, stored.prefix)
    assert len(stored.key_hash) == 64
    assert t.partner.key.startswith(stored.prefix + "_")


async def test_viewer_reports_the_callers_tenant(admin):
    t = await make_tenant(admin)
    assert (await admin.data(VIEWER))["viewer"] == {
        "role": "ADMIN",
        "partner": None,
        "customer": None,
    }
    assert (await t.partner.data(VIEWER))["viewer"] == {
        "role": "PARTNER",
        "partner": {"id": t.partner_id},
        "customer": None,
    }
    assert (await t.customer.data(VIEWER))["viewer"] == {
        "role": "CUSTOMER",
        "partner": {"id": t.partner_id},
        "customer": {"id": t.customer_id},
    }


CREATE_KEY = """mutation($role: Role!, $p: ID, $c: ID) {
  createApiKey(role: $role, partnerId: $p, customerId: $c) { apiKey keyPrefix role userErrors { code field } } }"""


async def test_create_api_key_follows_the_tenant_tree(admin):
    a = await make_tenant(admin, "A")
    b = await make_tenant(admin, "B")
    # A partner mints keys for itself and for its customers...
    payload = await a.partner.mutate(CREATE_KEY, {"role": "PARTNER", "p": a.partner_id})
    assert (await a.partner.as_key(payload["apiKey"]).data(VIEWER))["viewer"]["partner"][
        "id"
    ] == a.partner_id
    payload = await a.partner.mutate(CREATE_KEY, {"role": "CUSTOMER", "c": a.customer_id})
    assert payload["role"] == "CUSTOMER"
    # ...not for another partner, its customers, or the platform.
    assert await a.partner.user_errors(CREATE_KEY, {"role": "PARTNER", "p": b.partner_id}) == [
        "NOT_FOUND"
    ]
    assert await a.partner.user_errors(CREATE_KEY, {"role": "CUSTOMER", "c": b.customer_id}) == [
        "NOT_FOUND"
    ]
    assert await a.partner.user_errors(CREATE_KEY, {"role": "ADMIN"}) == ["FORBIDDEN"]
    assert await a.customer.user_errors(CREATE_KEY, {"role": "PARTNER", "p": a.partner_id}) == [
        "FORBIDDEN"
    ]
    assert await admin.user_errors(CREATE_KEY, {"role": "PARTNER"}) == ["INVALID_ARGUMENT"]
    assert await admin.user_errors(CREATE_KEY, {"role": "ADMIN", "p": a.partner_id}) == [
        "INVALID_ARGUMENT"
    ]
    # A new ADMIN key works as one.
    payload = await admin.mutate(CREATE_KEY, {"role": "ADMIN"})
    assert (await admin.as_key(payload["apiKey"]).data(VIEWER))["viewer"]["role"] == "ADMIN"


async def test_revoking_another_tenants_key_is_not_found(admin):
    a = await make_tenant(admin, "A")
    b = await make_tenant(admin, "B")
    other = await ApiKey.filter(partner_id=int(b.partner_id), customer_id=None).first()
    query = (
        "mutation($p: String!) { revokeApiKey(keyPrefix: $p) { keyPrefix userErrors { code } } }"
    )
    assert await a.partner.user_errors(query, {"p": other.prefix}) == ["NOT_FOUND"]
    assert await a.partner.user_errors(query, {"p": "dbk_doesnotexist"}) == ["NOT_FOUND"]
    assert (await b.partner.data(VIEWER))["viewer"]["role"] == "PARTNER"


async def test_a_partner_probing_another_partner_gets_not_found_every_time(admin):
    a = await make_tenant(admin, "A", funds="5")
    b = await make_tenant(admin, "B", funds="5")
    for query, variables in [
        ("query($id: ID!) { wallet(id: $id) { id } }", {"id": b.wallet_id}),
        ("query($id: ID!) { customer(id: $id) { id } }", {"id": b.customer_id}),
        ("query($id: ID!) { partner(id: $id) { id } }", {"id": b.partner_id}),
    ]:
        body = await a.partner.execute(query, variables)
        (value,) = body["data"].values()
        assert value is None
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        # Exactly like an id that does not exist at all.
        missing = await a.partner.execute(query, {"id": "987654"})
        assert missing["errors"][0]["message"] == body["errors"][0]["message"]

    for mutation in (TOP_UP, CHARGE):
        codes = await a.partner.user_errors(
            mutation, {"walletId": b.wallet_id, "amount": "1", "comment": "probe"}
        )
        assert codes == ["NOT_FOUND"]
    assert await a.partner.user_errors(
        CREATE_CUSTOMER, {"partnerId": b.partner_id, "name": "Mole"}
    ) == ["NOT_FOUND"]
    assert (await wallet_state(b.partner, b.wallet_id))["balance"]["amount"] == "5.00"


async def test_a_customer_cannot_top_up_or_see_its_siblings(admin):
    t = await make_tenant(admin, funds="5")
    sibling_id, sibling_wallet, _ = await make_customer(t.partner, t.partner_id, "Sibling")
    assert await t.customer.user_errors(TOP_UP, {"walletId": t.wallet_id, "amount": "100"}) == [
        "FORBIDDEN"
    ]
    assert await t.customer.user_errors(
        ADJUST, {"walletId": t.wallet_id, "amount": "100", "comment": "gift"}
    ) == ["FORBIDDEN"]
    assert await t.customer.user_errors(TOP_UP, {"walletId": sibling_wallet, "amount": "1"}) == [
        "NOT_FOUND"
    ]
    body = await t.customer.execute(
        "query($id: ID!) { customer(id: $id) { id } }", {"id": sibling_id}
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # Through its partner it sees only itself, and not the partner's day history.
    data = await t.customer.data(
        "query($id: ID!) { partner(id: $id) { customers { totalCount edges { node { id } } } } }",
        {"id": t.partner_id},
    )
    assert data["partner"]["customers"]["totalCount"] == 1
    assert data["partner"]["customers"]["edges"][0]["node"]["id"] == t.customer_id
    body = await t.customer.execute(
        "query($id: ID!) { partner(id: $id) { dayEntries { totalCount } } }", {"id": t.partner_id}
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await wallet_state(t.partner, t.wallet_id))["balance"]["amount"] == "5.00"


async def test_partners_list_is_admin_only(admin):
    t = await make_tenant(admin)
    data = await admin.data("{ partners { id name } }")
    assert [p["id"] for p in data["partners"]] == [t.partner_id]
    body = await t.partner.execute("{ partners { id } }")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_customer_sees_its_partners_name_not_its_business(admin):
    t = await make_tenant(admin)
    data = await t.customer.data("{ viewer { partner { id name currencyCode } } }")
    assert data["viewer"]["partner"]["id"] == t.partner_id
    for field in (
        "dayBalance",
        "dayPrice { amount }",
        "markupPercent",
        "trialEligible",
        "lowDaysThreshold",
    ):
        body = await t.customer.execute(f'{{ partner(id: "{t.partner_id}") {{ {field} }} }}')
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", field
    assert (
        await t.partner.data(f'{{ partner(id: "{t.partner_id}") {{ dayBalance markupPercent }} }}')
    )["partner"] == {"dayBalance": 0, "markupPercent": "0.00"}
