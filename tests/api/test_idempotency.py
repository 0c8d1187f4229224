"""Idempotency keys: same key + same input = original payload; different input = refused."""

from __future__ import annotations

from tests.factories import ADJUST, CHARGE, TOP_UP, make_tenant, wallet_state


async def test_a_retry_returns_the_original_entry_and_moves_nothing(
    admin, assert_ledger_invariants
):
    t = await make_tenant(admin)
    variables = {"walletId": t.wallet_id, "amount": "20", "comment": "card", "key": "k-1"}
    first = await t.partner.mutate(TOP_UP, variables)
    await t.partner.mutate(CHARGE, {"walletId": t.wallet_id, "amount": "5", "comment": "use"})
    again = await t.partner.mutate(TOP_UP, variables)
    assert again["replayed"] is True
    assert again["entry"] == first["entry"]
    assert (await wallet_state(t.partner, t.wallet_id))["balance"]["amount"] == "15.00"
    await assert_ledger_invariants()


async def test_the_same_key_with_different_input_is_refused(admin):
    t = await make_tenant(admin)
    await t.partner.mutate(TOP_UP, {"walletId": t.wallet_id, "amount": "20", "key": "k-2"})
    for changed in (
        {"walletId": t.wallet_id, "amount": "21", "key": "k-2"},
        {"walletId": t.wallet_id, "amount": "20", "comment": "other", "key": "k-2"},
    ):
        assert await t.partner.user_errors(TOP_UP, changed) == ["IDEMPOTENCY_KEY_REUSED"]
    # Another operation with the same key is a different request too.
    assert await t.partner.user_errors(
        ADJUST, {"walletId": t.wallet_id, "amount": "20", "comment": "x", "key": "k-2"}
    ) == ["IDEMPOTENCY_KEY_REUSED"]
    wallet = await wallet_state(t.partner, t.wallet_id)
    assert wallet["balance"]["amount"] == "20.00"
    assert wallet["entries"]["totalCount"] == 1


async def test_keys_are_scoped_per_caller(admin):
    t = await make_tenant(admin)
    variables = {"walletId": t.wallet_id, "amount": "3", "key": "shared-key"}
    first = await t.partner.mutate(TOP_UP, variables)
    second = await admin.mutate(TOP_UP, variables)
    assert first["entry"]["id"] != second["entry"]["id"]
    assert second["replayed"] is False
    assert (await wallet_state(t.partner, t.wallet_id))["balance"]["amount"] == "6.00"


async def test_blank_or_oversized_keys_are_refused(admin):
    t = await make_tenant(admin)
    for key in ["", "   ", "k" * 201]:
        codes = await t.partner.user_errors(
            TOP_UP, {"walletId": t.wallet_id, "amount": "3", "key": key}
        )
        assert codes == ["INVALID_ARGUMENT"]
    assert (await wallet_state(t.partner, t.wallet_id))["entries"]["totalCount"] == 0
