"""Money parsing and formatting: exact, half-even, no floats."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.errors import InvalidAmount
from backend.domain.money import (
    MAX_MOVEMENT_MICROS,
    decimal_to_micros,
    format_micros,
    micros_to_decimal,
    parse_amount,
)


@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("1", 1_000_000),
        ("0.000001", 1),
        ("12.34", 12_340_000),
        ("+7.5", 7_500_000),
        (" 3.25 ", 3_250_000),
        ("1000000000", MAX_MOVEMENT_MICROS),
    ],
)
def test_parse_amount(text, micros):
    assert parse_amount(text) == micros


@pytest.mark.parametrize(
    "text", ["0", "-1", "1.0000001", "abc", "1e6", "", "1000000000.000001", "0x10", "١٢"]
)
def test_parse_amount_refuses(text):
    with pytest.raises(InvalidAmount):
        parse_amount(text)


def test_negative_and_zero_when_allowed():
    assert parse_amount("-2.5", allow_negative=True) == -2_500_000
    assert parse_amount("0", allow_zero=True) == 0


@pytest.mark.parametrize(
    ("micros", "text"),
    [
        (0, "0.00"),
        (1, "0.000001"),
        (12_340_000, "12.34"),
        (-5_000_000, "-5.00"),
        (1_234_567, "1.234567"),
    ],
)
def test_format_micros(micros, text):
    assert format_micros(micros) == text


@given(st.integers(min_value=-MAX_MOVEMENT_MICROS, max_value=MAX_MOVEMENT_MICROS).filter(bool))
def test_format_then_parse_is_exact(micros):
    assert parse_amount(format_micros(micros), allow_negative=True) == micros
    assert decimal_to_micros(micros_to_decimal(micros)) == micros


def test_half_even_rounding_at_six_places():
    assert decimal_to_micros(Decimal("0.0000005")) == 0
    assert decimal_to_micros(Decimal("0.0000015")) == 2
    assert decimal_to_micros(Decimal("0.0000025")) == 2
    assert decimal_to_micros(Decimal("-0.0000025")) == -2
