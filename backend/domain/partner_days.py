"""The partner's day balance: purchases and the low-days threshold.

Days move only through ``day_ledger.post``; allocations to channels come with
the channels module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet

from backend.domain import access, alerts, day_ledger, idempotency, locking, validation
from backend.domain.access import Principal
from backend.domain.errors import Forbidden, InvalidDays, NotFound
from backend.domain.models import DayEntry, DayEntryKind, Partner, Role
from backend.domain.unit_of_work import transaction

MAX_PURCHASE_DAYS = 1_000_000


@dataclass(frozen=True)
class DaysMovement:
    partner: Partner
    entry: DayEntry
    replayed: bool


async def purchase_days(
    principal: Principal,
    *,
    partner_id: int,
    days: int,
    comment: str,
    idempotency_key: str | None = None,
) -> DaysMovement:
    """ADMIN records days the partner has paid for."""
    access.require_role(principal, Role.ADMIN)
    partner = await access.get_partner(principal, partner_id)
    days = validation.whole_days(days, maximum=MAX_PURCHASE_DAYS)
    clean_comment = validation.comment(comment, required=True)

    async def action(conn: BaseDBAsyncClient) -> dict[str, Any]:
        movement = await day_ledger.post(
            conn,
            partner_id=partner.id,
            days=days,
            kind=DayEntryKind.PURCHASE,
            comment=clean_comment,
        )
        return {"partner_id": partner.id, "entry_id": movement.entry.id}

    result, replayed = await idempotency.run_once(
        scope=principal.idempotency_scope,
        key=idempotency_key,
        operation="purchaseDays",
        request={"partner": partner.id, "days": days, "comment": clean_comment},
        action=action,
    )
    return DaysMovement(
        partner=await Partner.get(id=result["partner_id"]),
        entry=await DayEntry.get(id=result["entry_id"]),
        replayed=replayed,
    )


def history_query(
    principal: Principal,
    partner_id: int,
    *,
    channel_id: int | None = None,
    kind: DayEntryKind | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet:
    """The partner's day entries with the billing-history filters (GraphQL and CSV alike).

    ``since`` is inclusive, ``until`` exclusive. An unknown channel id simply
    matches nothing (a malformed one never reaches here: the caller parses it).
    """
    if principal.role == Role.CUSTOMER:
        raise Forbidden("A customer cannot read its partner's day history.")
    if not access.can_see_partner(principal, partner_id):
        raise NotFound("No such partner.", field="partner_id")
    query = DayEntry.filter(partner_id=partner_id)
    if channel_id is not None:
        query = query.filter(channel_id=channel_id)
    if kind is not None:
        query = query.filter(kind=kind)
    return access.within(query, since, until)


async def set_low_days_threshold(
    principal: Principal, *, partner_id: int, days: int | None
) -> Partner:
    access.require_role(principal, Role.ADMIN, Role.PARTNER)
    partner = await access.get_partner(principal, partner_id)
    if days is not None and (isinstance(days, bool) or not 0 <= days <= MAX_PURCHASE_DAYS):
        raise InvalidDays(
            f"The threshold is a whole number of days from 0 to {MAX_PURCHASE_DAYS}.", field="days"
        )
    async with transaction() as conn:
        # Moving the threshold past the balance is a crossing too, either way.
        current = await locking.lock_partner(conn, partner.id)
        await Partner.filter(id=partner.id).using_db(conn).update(low_days_threshold=days)
        await alerts.settle(conn, alerts.LOW_DAYS, {**current, "low_days_threshold": days})
    return await Partner.get(id=partner.id)
