"""Payloads of the day-balance mutations."""

from __future__ import annotations

import strawberry

from backend.api.days.types import DayEntry
from backend.api.errors import UserError
from backend.api.tenants.types import Partner


@strawberry.type
class DaysPayload:
    partner: Partner | None = None
    entry: DayEntry | None = None
    replayed: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)
