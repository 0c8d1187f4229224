"""Time is UTC and injectable (design rule 8).

Domain code asks ``clock.now()``; tests swap in a ``FrozenClock`` and move it
by hand, so expiry and daily caps are tested without sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._now = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, at: datetime) -> None:
        self._now = at.astimezone(UTC)


class _ClockHolder:
    """The process-wide clock; ``use`` replaces it (tests), ``now`` reads it."""

    def __init__(self) -> None:
        self._clock: SystemClock | FrozenClock = SystemClock()

    def now(self) -> datetime:
        return self._clock.now()

    def use(self, clock: SystemClock | FrozenClock) -> None:
        self._clock = clock

    def reset(self) -> None:
        self._clock = SystemClock()


clock = _ClockHolder()
