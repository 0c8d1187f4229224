"""Where the dashboard shows a userError, and which idempotency key a submission carries
(``frontend/forms.py``, stdlib only)."""

from __future__ import annotations

from dataclasses import dataclass

from frontend.forms import errors_by_control, key_for


@dataclass
class Err:
    field: str
    message: str


def test_an_error_with_its_own_control_stays_next_to_it() -> None:
    shown = errors_by_control([Err("amount", "Too much.")], ["amount", "comment"])
    assert shown == {"amount": "Too much."}


def test_an_error_without_a_control_goes_to_the_form_instead_of_vanishing() -> None:
    errors = [
        Err("idempotencyKey", "This idempotency key was already used for a different request."),
        Err("walletId", "Unknown wallet."),
        Err("amount", "Too much."),
    ]
    shown = errors_by_control(errors, ["amount", "comment"])
    assert shown["amount"] == "Too much."
    assert "already used for a different request" in shown["form"]
    assert "Unknown wallet." in shown["form"]


def test_the_same_inputs_keep_their_key_and_changed_inputs_get_a_new_one() -> None:
    first = key_for("", "", "wallet-1|25.00|")
    assert first.startswith("dashboard-")
    assert key_for(first, "wallet-1|25.00|", "wallet-1|25.00|") == first  # a retry replays
    changed = key_for(first, "wallet-1|25.00|", "wallet-1|26.00|")
    assert changed != first  # not refused as IDEMPOTENCY_KEY_REUSED
