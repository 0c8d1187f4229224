"""Partners, customers, markups and plans through GraphQL."""

from __future__ import annotations

import pytest

from backend.domain.models import Customer, Partner, Plan, Wallet
from tests.factories import CREATE_CUSTOMER, CREATE_PARTNER, make_partner, make_tenant

CREATE_PLAN = """mutation($name: String!, $fee: Decimal!, $cur: String!, $tax: Decimal!) {
  createPlan(name: $name, monthlyFee: $fee, currencyCode: $cur, taxRatePercent: $tax) {
    plan { id name monthlyFee { amount currencyCode } taxRatePercent } userErrors { code field } } }"""


async def test_create_partner_returns_a_working_partner_key(admin):
    payload = await admin.mutate(
        CREATE_PARTNER, {"name": "  WaBiz  ", "currency": "eur", "price": "0.4", "trial": True}
    )
    assert payload["partner"]["name"] == "WaBiz"
    assert payload["partner"]["currencyCode"] == "EUR"
    assert payload["partner"]["dayBalance"] == 0
    partner = admin.as_key(payload["apiKey"])
    data = await partner.data(
        "{ viewer { partner { dayPrice { amount currencyCode } trialEligible } } }"
    )
    assert data["viewer"]["partner"] == {
        "dayPrice": {"amount": "0.40", "currencyCode": "EUR"},
        "trialEligible": True,
    }


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"name": "X", "currency": "XYZ", "price": "1"}, "INVALID_CURRENCY"),
        ({"name": "X", "currency": "US", "price": "1"}, "INVALID_CURRENCY"),
        ({"name": "X", "currency": "", "price": "1"}, "INVALID_CURRENCY"),
        ({"name": "", "currency": "USD", "price": "1"}, "INVALID_ARGUMENT"),
        ({"name": "x" * 201, "currency": "USD", "price": "1"}, "INVALID_ARGUMENT"),
        ({"name": "X", "currency": "USD", "price": "-1"}, "INVALID_AMOUNT"),
        ({"name": "X", "currency": "USD", "price": "one"}, "INVALID_AMOUNT"),
    ],
)
async def test_bad_partner_input_is_refused_and_creates_nothing(admin, variables, code):
    assert await admin.user_errors(CREATE_PARTNER, variables) == [code]
    assert await Partner.all().count() == 0


async def test_only_admin_creates_partners(admin):
    _, partner = await make_partner(admin)
    codes = await partner.user_errors(
        CREATE_PARTNER, {"name": "Y", "currency": "USD", "price": "1"}
    )
    assert codes == ["FORBIDDEN"]
    assert await Partner.all().count() == 1


async def test_a_customer_is_created_with_its_wallet_in_the_partner_currency(admin):
    partner_id, partner = await make_partner(admin, currency="BRL")
    payload = await partner.mutate(CREATE_CUSTOMER, {"partnerId": partner_id, "name": "Loja"})
    assert payload["customer"]["wallet"]["balance"] == {"amount": "0.00", "currencyCode": "BRL"}
    customer = await Customer.get(id=int(payload["customer"]["id"]))
    assert (await Wallet.get(customer_id=customer.id)).currency_code == "BRL"


async def test_bad_customer_input_creates_nothing(admin):
    t = await make_tenant(admin)
    assert await t.partner.user_errors(
        CREATE_CUSTOMER, {"partnerId": t.partner_id, "name": " "}
    ) == ["INVALID_ARGUMENT"]
    assert await t.partner.user_errors(
        CREATE_CUSTOMER, {"partnerId": t.partner_id, "name": "X", "planId": "4242"}
    ) == ["NOT_FOUND"]
    assert await t.customer.user_errors(
        CREATE_CUSTOMER, {"partnerId": t.partner_id, "name": "X"}
    ) == ["FORBIDDEN"]
    assert await Customer.all().count() == 1
    assert await Wallet.all().count() == 1


async def test_plans_platform_and_partner_own(admin):
    usd = await make_tenant(admin, "US")
    eur = await make_tenant(admin, "EU", currency="EUR")
    platform = await admin.mutate(
        CREATE_PLAN, {"name": "Pro", "fee": "49.99", "cur": "USD", "tax": "20"}
    )
    assert platform["plan"]["monthlyFee"] == {"amount": "49.99", "currencyCode": "USD"}
    assert platform["plan"]["taxRatePercent"] == "20.00"
    own = await usd.partner.mutate(
        CREATE_PLAN, {"name": "Lite", "fee": "9", "cur": "USD", "tax": "7.5"}
    )

    names = lambda data: sorted(p["name"] for p in data["plans"])  # noqa: E731
    assert names(await admin.data("{ plans { name } }")) == ["Lite", "Pro"]
    assert names(await usd.partner.data("{ plans { name } }")) == ["Lite", "Pro"]
    assert names(await eur.partner.data("{ plans { name } }")) == ["Pro"]
    assert names(await usd.customer.data("{ plans { name } }")) == ["Lite", "Pro"]

    # A customer on a plan; a plan in another currency, or another partner's plan, is refused.
    payload = await usd.partner.mutate(
        CREATE_CUSTOMER, {"partnerId": usd.partner_id, "name": "Shop", "planId": own["plan"]["id"]}
    )
    assert payload["customer"]["id"]
    assert await eur.partner.user_errors(
        CREATE_CUSTOMER,
        {"partnerId": eur.partner_id, "name": "X", "planId": platform["plan"]["id"]},
    ) == ["CURRENCY_MISMATCH"]
    assert await eur.partner.user_errors(
        CREATE_CUSTOMER, {"partnerId": eur.partner_id, "name": "X", "planId": own["plan"]["id"]}
    ) == ["NOT_FOUND"]


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"name": "P", "fee": "-1", "cur": "USD", "tax": "20"}, "INVALID_AMOUNT"),
        ({"name": "P", "fee": "x", "cur": "USD", "tax": "20"}, "INVALID_AMOUNT"),
        ({"name": "P", "fee": "1", "cur": "USD", "tax": "100.5"}, "INVALID_ARGUMENT"),
        ({"name": "P", "fee": "1", "cur": "USD", "tax": "-3"}, "INVALID_ARGUMENT"),
        ({"name": "P", "fee": "1", "cur": "EUR", "tax": "3"}, "CURRENCY_MISMATCH"),
        ({"name": "P", "fee": "1", "cur": "ABC", "tax": "3"}, "INVALID_CURRENCY"),
        ({"name": "", "fee": "1", "cur": "USD", "tax": "3"}, "INVALID_ARGUMENT"),
    ],
)
async def test_bad_plans_are_refused(admin, variables, code):
    t = await make_tenant(admin)
    assert await t.partner.user_errors(CREATE_PLAN, variables) == [code]
    assert await t.customer.user_errors(CREATE_PLAN, variables) == ["FORBIDDEN"]
    assert await Plan.all().count() == 0


async def test_partner_markup(admin):
    t = await make_tenant(admin)
    query = """mutation($p: ID!, $m: Decimal!) { setPartnerMarkup(partnerId: $p, percent: $m) {
                 partner { markupPercent } userErrors { code } } }"""
    assert (await t.partner.mutate(query, {"p": t.partner_id, "m": "12.5"}))["partner"] == {
        "markupPercent": "12.50"
    }
    for bad in ["-1", "1000.01", "abc"]:
        assert await t.partner.user_errors(query, {"p": t.partner_id, "m": bad}) == [
            "INVALID_ARGUMENT"
        ]
    assert await t.customer.user_errors(query, {"p": t.partner_id, "m": "1"}) == ["FORBIDDEN"]
    assert (await Partner.get(id=int(t.partner_id))).markup_percent_micros == 12_500_000
