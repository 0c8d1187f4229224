"""Charged as Meta charges: by the recipient's calling code, known number or not.

A delivered status to a number libphonenumber does not know as valid (Ofcom's
drama range, a new range) is still a message Meta delivered and charged, so it
is priced by its calling code, with the +1 and +7 splits; only a recipient with
no usable calling code is a dead letter, and that changes nothing else.
"""

from __future__ import annotations

import pytest

from backend.domain import pricing
from backend.domain.models import (
    Alert,
    Conversation,
    HoldRecipient,
    LedgerEntry,
    WebhookEvent,
)
from backend.events import topics
from backend.events.bus import bus
from tests.webhooks.meta import body, status
from tests.webhooks.test_rates_and_conversations import IMPORT
from tests.webhooks.test_whatsapp_webhook import balance, charges

# In force from February: every status of these tests opens on 2026-03-01.
MARKETS_CARD = """market,category,price
DE,MARKETING,0.10
GB,MARKETING,0.50
RU,MARKETING,0.30
KZ,MARKETING,0.40
North America,MARKETING,0.25
Rest of Latin America,MARKETING,0.15
*,MARKETING,0.70
"""

DRAMA_UK = "447700900123"  # Ofcom's range for fiction: never valid, still +44
JAMAICA_NEW_RANGE = "18760001234"  # +1 876 is Jamaica (Rest of Latin America); 000 is no exchange
BAHAMAS_NEW_RANGE = "12420001234"  # +1 242: the Bahamas, a country Meta does not list: Other
KAZAKHSTAN_6XX = "76001234567"  # +7 6xx: Kazakhstan's, unknown to libphonenumber
KAZAKHSTAN_VALID = "77011234567"
RUSSIA_VALID = "79161234567"
GERMAN_VALID = "4915112345678"
AMERICAN_VALID = "14155552671"


@pytest.mark.parametrize(
    ("number", "country"),
    [
        (DRAMA_UK, "GB"),
        (JAMAICA_NEW_RANGE, "JM"),
        (BAHAMAS_NEW_RANGE, "BS"),
        ("18090001234", "DO"),  # Dominican Republic: 809/829/849
        ("17870001234", "PR"),  # Puerto Rico: 787/939
        ("12120000000", "US"),  # a +1 area code of no other country: the code's main country
        (KAZAKHSTAN_6XX, "KZ"),
        (KAZAKHSTAN_VALID, "KZ"),
        (RUSSIA_VALID, "RU"),
        ("73000000000", "RU"),  # +7 3xx: Russia's
        (GERMAN_VALID, "DE"),
        (AMERICAN_VALID, "US"),
        ("80012345678", None),  # +800, non-geographic: no country, Meta's Other
    ],
)
def test_the_country_of_a_number_follows_its_calling_code(number, country):
    recipient = pricing.recipient(number)
    assert recipient.country == country
    assert recipient.e164 == "+" + number


@pytest.mark.parametrize("number", ["12", "4412", "9991234567", "+", "44 7700", "1" * 16])
def test_no_usable_calling_code(number):
    with pytest.raises(pricing.UnusableRecipient):
        pricing.recipient(number)


async def test_unknown_ranges_are_charged_by_calling_code(world, assert_ledger_invariants):
    await world.admin.mutate(
        IMPORT, {"csv": MARKETS_CARD, "cur": "USD", "from": "2026-02-01T00:00:00Z"}
    )
    numbers = {
        "wamid.GB": DRAMA_UK,
        "wamid.JM": JAMAICA_NEW_RANGE,
        "wamid.BS": BAHAMAS_NEW_RANGE,
        "wamid.KZ6": KAZAKHSTAN_6XX,
        "wamid.KZ7": KAZAKHSTAN_VALID,
        "wamid.RU": RUSSIA_VALID,
        "wamid.DE": GERMAN_VALID,
        "wamid.US": AMERICAN_VALID,
    }
    response = await world.post(
        body(*(status(key, "delivered", number) for key, number in numbers.items()))
    )
    assert response.status_code == 200
    assert response.json()["status"] == "PROCESSED", response.json()
    # Rate x 1.1 (the partner's 10% markup).
    assert sorted(await charges(world)) == [
        ("wamid.BS", "-0.77"),  # Other 0.70
        ("wamid.DE", "-0.11"),  # DE 0.10: a valid number, priced as before
        ("wamid.GB", "-0.55"),  # GB 0.50
        ("wamid.JM", "-0.165"),  # Rest of Latin America 0.15
        ("wamid.KZ6", "-0.44"),  # KZ 0.40
        ("wamid.KZ7", "-0.44"),
        ("wamid.RU", "-0.33"),  # RU 0.30
        ("wamid.US", "-0.275"),  # North America 0.25
    ]
    stored = await Conversation.all().values_list("external_id", "recipient", "market")
    assert sorted(stored) == [
        ("wamid.BS", "+" + BAHAMAS_NEW_RANGE, "*"),
        ("wamid.DE", "+" + GERMAN_VALID, "DE"),
        ("wamid.GB", "+" + DRAMA_UK, "GB"),
        ("wamid.JM", "+" + JAMAICA_NEW_RANGE, "Rest of Latin America"),
        ("wamid.KZ6", "+" + KAZAKHSTAN_6XX, "KZ"),
        ("wamid.KZ7", "+" + KAZAKHSTAN_VALID, "KZ"),
        ("wamid.RU", "+" + RUSSIA_VALID, "RU"),
        ("wamid.US", "+" + AMERICAN_VALID, "North America"),
    ]
    total = sum(
        await LedgerEntry.filter(kind="CONVERSATION_CHARGE").values_list("amount_micros", flat=True)
    )
    assert total == -3_080_000
    assert await balance(world) == "96.92"
    # Delivered again (Meta retries): charged once.
    again = await world.post(body(status("wamid.GB", "delivered", DRAMA_UK)))
    assert again.json()["status"] == "PROCESSED"
    assert await balance(world) == "96.92"
    await assert_ledger_invariants()


async def _snapshot(world) -> tuple:
    return (
        await Conversation.all().count(),
        await LedgerEntry.all().count(),
        await HoldRecipient.all().count(),
        await Alert.all().count(),
        await balance(world),
    )


@pytest.mark.parametrize("recipient", ["9991234567", "4412"])
async def test_no_usable_calling_code_is_a_dead_letter_and_changes_nothing(
    world, recipient, assert_ledger_invariants
):
    before = await _snapshot(world)
    response = await world.post(body(status("wamid.Z1", "delivered", recipient)))
    assert response.status_code == 200
    answer = response.json()
    assert answer["status"] == "DEAD"
    assert "is not a phone number with a usable calling code" in answer["error"]
    assert await _snapshot(world) == before
    event = await WebhookEvent.get(id=answer["event"])
    assert (event.status, event.attempts) == ("DEAD", 1)
    assert recipient in event.last_error
    await assert_ledger_invariants()


async def test_a_new_card_is_priced_at_once_and_every_worker_is_told(world):
    await world.post(body(status("wamid.V1", "delivered", DRAMA_UK)))
    assert await charges(world) == [("wamid.V1", "-0.22")]  # the fixture's card: "*" 0.20
    listener = bus.subscribe([topics.RATE_CARDS_CHANGED])
    try:
        await world.admin.mutate(
            IMPORT, {"csv": MARKETS_CARD, "cur": "USD", "from": "2026-02-01T00:00:00Z"}
        )
        event = listener.queue.get_nowait()
        assert (event.kind, event.topics) == ("control", (topics.RATE_CARDS_CHANGED,))
    finally:
        bus.unsubscribe(listener)
    # The cached cards were dropped with the import: the new card prices the next status.
    await world.post(body(status("wamid.V2", "delivered", DRAMA_UK)))
    assert sorted(await charges(world)) == [("wamid.V1", "-0.22"), ("wamid.V2", "-0.55")]
