"""The dashboard's amount parser (``frontend/formatting.py``, stdlib only): a typed amount is a
plain decimal or nothing; it is never guessed at, never a float, never exponent notation."""

from __future__ import annotations

import pytest

from frontend.formatting import AMOUNT_HINT, parse_money_input


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("25", "25"),
        ("25.50", "25.50"),
        (" 0.000001 ", "0.000001"),
        ("1,000", "1000"),
        ("1,000.50", "1000.50"),
        ("12,345,678.9", "12345678.9"),
        ("9" * 19, "9" * 19),
    ],
)
def test_plain_and_grouped_amounts_are_accepted(typed: str, sent: str) -> None:
    assert parse_money_input(typed) == sent


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "1,50",  # a decimal comma is not 150
        "1 000,50",  # nor is this 100050
        "1 000",
        "1,00",
        "10,00.5",
        ",100",
        "1e3",  # never exponent notation
        "1e9",
        "1E+2",
        "-5",
        "+5",
        "NaN",
        "Infinity",
        "0x10",
        ".5",
        "5.",
        "1.1234567",  # more than the API's 6 places
        "9" * 20,
        "١٢",  # digits of another script
        "25 USD",
    ],
)
def test_anything_else_is_refused(typed: str) -> None:
    assert parse_money_input(typed) is None


def test_the_hint_shows_an_example() -> None:
    assert AMOUNT_HINT == "Enter an amount such as 25.50"
