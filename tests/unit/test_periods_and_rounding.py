"""Billing periods and the exact rounding invoices use (pro rata fees, tax)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.errors import InvalidPeriod
from backend.domain.invoicing import plan_fee_line
from backend.domain.money import divide_half_even, percent_of
from backend.domain.periods import Period


@given(st.integers(-(10**15), 10**15), st.integers(1, 10**9))
def test_divide_half_even_matches_decimal(numerator, denominator):
    expected = (Decimal(numerator) / Decimal(denominator)).quantize(
        Decimal(1), rounding=ROUND_HALF_EVEN
    )
    assert divide_half_even(numerator, denominator) == int(expected)


@pytest.mark.parametrize(
    ("numerator", "denominator", "rounded"),
    [(5, 2, 2), (7, 2, 4), (-5, 2, -2), (-7, 2, -4), (1, 3, 0), (2, 3, 1)],
)
def test_ties_go_to_the_even_neighbour(numerator, denominator, rounded):
    assert divide_half_even(numerator, denominator) == rounded


def test_tax_is_a_percentage_rounded_half_even():
    assert percent_of(20_322_581, 20_000_000) == 4_064_516  # 4.0645162
    assert percent_of(2_500_000, 10_000_000) == 250_000
    assert percent_of(5, 10_000_000) == 0  # 0.5 micro-unit: to the even 0
    assert percent_of(15, 10_000_000) == 2  # 1.5 micro-units: to the even 2


def test_periods_walk_across_years_and_know_their_days():
    assert str(Period(2026, 12).next()) == "2027-01"
    assert str(Period(2026, 1).previous()) == "2025-12"
    assert Period(2028, 2).days == 29 and Period(2026, 2).days == 28
    assert Period(2026, 3).end == datetime(2026, 4, 1, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026-00", "2026-1", "202604", "2026-04-01", "abcd-ef", " "])
def test_malformed_periods_are_refused(text):
    with pytest.raises(InvalidPeriod):
        Period.parse(text, now=datetime(2026, 11, 21, tzinfo=UTC))


def test_a_month_is_invoiceable_from_its_last_instant_on():
    assert Period.parse("2026-10", now=datetime(2026, 11, 1, tzinfo=UTC)) == Period(2026, 10)
    with pytest.raises(InvalidPeriod, match="not ended"):
        Period.parse("2026-10", now=datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC))


def test_the_plan_fee_is_pro_rata_by_whole_days_from_the_start_day():
    march = Period(2026, 3)
    full = plan_fee_line(
        name="Growth", fee_micros=30_000_000, period=march, billed_from=march.start
    )
    assert (full.description, full.unit_price_micros) == ("Growth plan, 2026-03", 30_000_000)
    # Joined during 1 March: still the whole month, no pro rata label.
    first_day = plan_fee_line(
        name="Growth",
        fee_micros=30_000_000,
        period=march,
        billed_from=datetime(2026, 3, 1, 12, tzinfo=UTC),
    )
    assert first_day.description == "Growth plan, 2026-03"
    last_day = plan_fee_line(
        name="Growth",
        fee_micros=31_000_000,
        period=march,
        billed_from=datetime(2026, 3, 31, 23, 59, tzinfo=UTC),
    )
    assert (last_day.quantity, last_day.unit_price_micros) == (1, 1_000_000)
    assert "1 of 31 days" in last_day.description
