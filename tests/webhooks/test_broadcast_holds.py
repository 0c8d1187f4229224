"""authorizeBroadcast and holds: refused up front, reserved, then settled share by share."""

from __future__ import annotations

from datetime import timedelta

from backend.domain.holds import expire_holds
from backend.domain.models import Customer
from tests.factories import make_channel, phone
from tests.webhooks.meta import body, status

AUTHORIZE = """mutation($c: ID!, $cat: ConversationCategory!, $r: [String!]!, $ttl: Int) {
  authorizeBroadcast(channelId: $c, category: $cat, recipients: $r, ttlSeconds: $ttl) {
    hold { id amount { amount } remaining { amount } status recipients expiresAt }
    userErrors { field code message } } }"""
HOLDS = """query($w: ID!) { wallet(id: $w) { balance { amount } available { amount }
  holds { totalCount edges { node { id status remaining { amount } } } } } }"""


def germans(count: int, start: int = 0) -> list[str]:
    return [phone(start + n) for n in range(count)]


async def money(world) -> tuple[str, str]:
    wallet = (await world.partner.data(HOLDS, {"w": world.wallet_id}))["wallet"]
    return wallet["balance"]["amount"], wallet["available"]["amount"]


async def test_a_hold_is_captured_released_and_expired_with_available_right(
    world, frozen_clock, assert_ledger_invariants
):
    recipients = germans(3)
    payload = await world.customer.mutate(
        AUTHORIZE, {"c": world.channel_id, "cat": "MARKETING", "r": recipients, "ttl": 3600}
    )
    hold = payload["hold"]
    assert hold["amount"] == {"amount": "0.33"} and hold["status"] == "ACTIVE"
    assert await money(world) == ("100.00", "99.67")

    # The first recipient's message is delivered: charged, its share captured.
    first = recipients[0].lstrip("+")
    await world.post(body(status("wamid.H1", "delivered", first)))
    assert await money(world) == ("99.89", "99.67")
    # The second fails: its share goes back at once, nothing charged.
    second = recipients[1].lstrip("+")
    await world.post(body(status("wamid.H2", "failed", second)))
    assert await money(world) == ("99.89", "99.78")
    # The hour passes: the third share goes back and the hold is EXPIRED.
    frozen_clock.advance(timedelta(hours=1, seconds=1))
    assert await expire_holds() == 1
    assert await money(world) == ("99.89", "99.89")
    wallet = (await world.partner.data(HOLDS, {"w": world.wallet_id}))["wallet"]
    assert wallet["holds"]["edges"][0]["node"]["status"] == "EXPIRED"
    await assert_ledger_invariants()


async def test_release_hold(world, assert_ledger_invariants):
    payload = await world.partner.mutate(
        AUTHORIZE, {"c": world.channel_id, "cat": "UTILITY", "r": germans(4)}
    )
    assert await money(world) == ("100.00", "99.78")
    release = "mutation($h: ID!) { releaseHold(holdId: $h) { hold { status remaining { amount } } userErrors { code } } }"
    released = await world.partner.mutate(release, {"h": payload["hold"]["id"]})
    assert released["hold"] == {"status": "RELEASED", "remaining": {"amount": "0.00"}}
    assert await money(world) == ("100.00", "100.00")
    assert await world.partner.user_errors(release, {"h": payload["hold"]["id"]}) == [
        "INVALID_ARGUMENT"
    ]
    assert await world.partner.user_errors(release, {"h": "424242"}) == ["NOT_FOUND"]
    await assert_ledger_invariants()


async def test_300_recipients_on_a_tier_250_channel_are_refused(world):
    codes = await world.partner.user_errors(
        AUTHORIZE, {"c": world.channel_id, "cat": "MARKETING", "r": germans(300)}
    )
    assert codes == ["TIER_LIMIT_EXCEEDED"]
    assert await money(world) == ("100.00", "100.00")
    # 250 fit; one more does not, counting the rolling 24 hours.
    await world.partner.mutate(
        AUTHORIZE, {"c": world.channel_id, "cat": "MARKETING", "r": germans(250)}
    )
    assert await world.partner.user_errors(
        AUTHORIZE, {"c": world.channel_id, "cat": "MARKETING", "r": germans(1, start=400)}
    ) == ["TIER_LIMIT_EXCEEDED"]


async def test_refusals_change_nothing(world):
    pending = await make_channel(world.partner, world.customer_id, 901)
    cases = [
        ({"c": world.channel_id, "cat": "MARKETING", "r": []}, "INVALID_ARGUMENT"),
        (
            {"c": world.channel_id, "cat": "MARKETING", "r": [phone(1), phone(1)]},
            "DUPLICATE_RECIPIENT",
        ),
        (
            {"c": world.channel_id, "cat": "MARKETING", "r": [phone(1), "12345"]},
            "INVALID_PHONE_NUMBER",
        ),
        (
            {"c": world.channel_id, "cat": "MARKETING", "r": [phone(1)], "ttl": 5},
            "INVALID_ARGUMENT",
        ),
        ({"c": pending["id"], "cat": "MARKETING", "r": [phone(1)]}, "CHANNEL_INACTIVE"),
        ({"c": world.channel_id, "cat": "MARKETING", "r": germans(200)}, "INSUFFICIENT_FUNDS"),
        ({"c": "98765", "cat": "MARKETING", "r": [phone(1)]}, "NOT_FOUND"),
    ]
    await world.partner.mutate(
        """mutation($w: ID!) { adjustWallet(walletId: $w, amount: "-90", comment: "spent") { userErrors { code } } }""",
        {"w": world.wallet_id},
    )
    for variables, code in cases:
        assert await world.partner.user_errors(AUTHORIZE, variables) == [code], variables
    await Customer.filter(id=int(world.customer_id)).update(suspended=True)
    assert await world.partner.user_errors(
        AUTHORIZE, {"c": world.channel_id, "cat": "MARKETING", "r": [phone(1)]}
    ) == ["CUSTOMER_SUSPENDED"]
    assert await money(world) == ("10.00", "10.00")
    wallet = (await world.partner.data(HOLDS, {"w": world.wallet_id}))["wallet"]
    assert wallet["holds"]["totalCount"] == 0
