"""Rate cards, recordConversation and the conversations list."""

from __future__ import annotations

import pytest

from backend.domain.models import Rate, RateCard
from tests.factories import make_tenant
from tests.webhooks.meta import AUSTRIAN, CARD, GERMAN

IMPORT = """mutation($csv: String!, $cur: String!, $from: DateTime!) {
  importRateCard(csv: $csv, currencyCode: $cur, effectiveFrom: $from) {
    rates { market category price { amount currencyCode } effectiveFrom } userErrors { field code message } } }"""
RECORD = """mutation($c: ID!, $x: String!, $cat: ConversationCategory!, $r: String!, $m: PricingModel, $b: Boolean) {
  recordConversation(channelId: $c, externalId: $x, category: $cat, recipient: $r, pricingModel: $m, billable: $b) {
    conversation { id externalId category origin pricingModel market billable price { amount } channel { id } }
    entry { amount { amount } reference } duplicate userErrors { field code } } }"""


@pytest.mark.parametrize(
    ("csv", "fragment"),
    [
        ("market,category,price\nDE,MARKETING,-0.1", "positive"),
        ("market,category,price\nDE,MARKETING,0.1\nDE,marketing,0.2", "twice"),
        ("market,category,price\nXX,MARKETING,0.1", "neither"),
        ("market,category,price\nAtlantis,MARKETING,0.1", "neither"),
        ("market,category,price\nDE,HOROSCOPE,0.1", "unknown category"),
        ("market,category,price\nDE,MARKETING,0.1234567", "6 decimal"),
        ("country,kind,price\nDE,MARKETING,0.1", "first line"),
        ("market,category,price\n", "no rates"),
        ("market,category,price\nDE,MARKETING", "three fields"),
    ],
)
async def test_bad_rate_cards_are_refused_whole(admin, csv, fragment):
    errors = (await admin.data(IMPORT, {"csv": csv, "cur": "USD", "from": "2026-01-01T00:00:00Z"}))[
        "importRateCard"
    ]["userErrors"]
    assert errors[0]["code"] == "INVALID_RATE_CARD"
    assert fragment in errors[0]["message"]
    assert await RateCard.all().count() == 0 and await Rate.all().count() == 0


async def test_rate_cards_are_versions_and_lookups_fall_back(admin):
    await admin.mutate(IMPORT, {"csv": CARD, "cur": "USD", "from": "2026-01-01T00:00:00Z"})
    await admin.mutate(
        IMPORT,
        {
            "csv": "market,category,price\n*,MARKETING,0.5",
            "cur": "USD",
            "from": "2026-06-01T00:00:00Z",
        },
    )
    query = "query($m: String, $at: DateTime) { rates(market: $m, at: $at) { market category price { amount } } }"
    march = await admin.data(query, {"m": "DE", "at": "2026-03-01T00:00:00Z"})
    assert {(r["category"], r["market"], r["price"]["amount"]) for r in march["rates"]} == {
        ("MARKETING", "DE", "0.10"),
        ("UTILITY", "DE", "0.05"),
        ("AUTHENTICATION", "DE", "0.03"),
        ("SERVICE", "DE", "0.02"),
        ("AUTHENTICATION_INTERNATIONAL", "*", "0.09"),
    }
    austria = await admin.data(query, {"m": "AT", "at": "2026-03-01T00:00:00Z"})
    assert ("MARKETING", "Rest of Western Europe") in {
        (r["category"], r["market"]) for r in austria["rates"]
    }
    july = await admin.data(query, {"m": "DE", "at": "2026-07-01T00:00:00Z"})
    assert [(r["market"], r["price"]["amount"]) for r in july["rates"]] == [("*", "0.50")]
    t = await make_tenant(admin)
    assert await t.partner.user_errors(
        IMPORT, {"csv": CARD, "cur": "USD", "from": "2026-01-01T00:00:00Z"}
    ) == ["FORBIDDEN"]
    assert await admin.user_errors(
        IMPORT, {"csv": CARD, "cur": "XYZ", "from": "2026-01-01T00:00:00Z"}
    ) == ["INVALID_CURRENCY"]


async def test_record_conversation_charges_once(world, assert_ledger_invariants):
    variables = {
        "c": world.channel_id,
        "x": "conv-77",
        "cat": "MARKETING",
        "r": "+" + GERMAN,
        "m": "CBP",
    }
    first = await world.partner.mutate(RECORD, variables)
    assert first["duplicate"] is False
    assert first["conversation"]["price"] == {"amount": "0.11"}
    assert first["conversation"]["origin"] == "BUSINESS_INITIATED"
    assert first["entry"] == {"amount": {"amount": "-0.11"}, "reference": "conv-77"}
    again = await world.partner.mutate(RECORD, variables)
    assert again["duplicate"] is True and again["conversation"]["id"] == first["conversation"]["id"]
    free = await world.partner.mutate(
        RECORD, {**variables, "x": "conv-78", "cat": "SERVICE", "b": False}
    )
    assert free["conversation"]["origin"] == "USER_INITIATED" and free["entry"] is None
    data = await world.customer.data(
        "query($c: ID) { conversations(channelId: $c) { totalCount edges { node { externalId price { amount } } } } }",
        {"c": world.channel_id},
    )
    assert [
        (e["node"]["externalId"], e["node"]["price"]["amount"])
        for e in data["conversations"]["edges"]
    ] == [("conv-78", "0.00"), ("conv-77", "0.11")]
    await assert_ledger_invariants()


async def test_record_conversation_bad_input(world, admin):
    other = await make_tenant(admin, "Other")
    base = {"c": world.channel_id, "x": "conv-1", "cat": "MARKETING", "r": "+" + GERMAN}
    assert await world.partner.user_errors(RECORD, {**base, "r": "12345"}) == [
        "INVALID_PHONE_NUMBER"
    ]
    assert await world.partner.user_errors(RECORD, {**base, "x": "  "}) == ["INVALID_ARGUMENT"]
    assert await other.partner.user_errors(RECORD, base) == ["NOT_FOUND"]
    assert await world.customer.user_errors(RECORD, base) == ["FORBIDDEN"]
    data = await other.partner.data("{ conversations { totalCount } }")
    assert data["conversations"]["totalCount"] == 0
    assert (await world.partner.data("{ conversations { totalCount } }"))["conversations"][
        "totalCount"
    ] == 0


async def test_a_free_conversation_carries_the_market_its_rate_would_have(world):
    base = {"c": world.channel_id, "cat": "MARKETING", "m": "PMP"}
    paid = await world.partner.mutate(RECORD, {**base, "x": "paid-at", "r": "+" + AUSTRIAN})
    free = await world.partner.mutate(
        RECORD, {**base, "x": "free-at", "r": "+" + AUSTRIAN, "b": False}
    )
    assert paid["conversation"]["market"] == "Rest of Western Europe"
    assert free["conversation"]["market"] == "Rest of Western Europe"
    assert free["conversation"]["price"] == {"amount": "0.00"}
