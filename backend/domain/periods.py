"""Billing periods: calendar months in UTC, written ``YYYY-MM``."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from backend.domain.errors import InvalidPeriod

_PERIOD = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
EARLIEST_YEAR = 2000


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int

    @classmethod
    def containing(cls, moment: datetime) -> Period:
        moment = moment.astimezone(UTC)
        return cls(moment.year, moment.month)

    @classmethod
    def parse(cls, text: str, *, now: datetime, field: str = "period") -> Period:
        """A month that has ended by ``now``: an open month's usage is not complete yet."""
        match = _PERIOD.match((text or "").strip())
        if match is None:
            raise InvalidPeriod(
                f"{text!r} is not a period; write the month as YYYY-MM, e.g. 2026-10.", field=field
            )
        period = cls(int(match.group(1)), int(match.group(2)))
        if period.year < EARLIEST_YEAR:
            raise InvalidPeriod(f"Periods start in {EARLIEST_YEAR}.", field=field)
        # Compared as months: a period's end is the next month's start, which
        # does not exist for 9999-12 (datetime stops at year 9999).
        if period >= cls.containing(now):
            raise InvalidPeriod(
                f"{period} has not ended yet; a month is invoiced once it is over.", field=field
            )
        return period

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant of the next month (exclusive)."""
        return self.next().start

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"
