"""Who is calling, and which rows they may see (tenant isolation).

Every lookup of a tenant's object by id goes through here. Another tenant's
object raises ``NotFound`` exactly like a missing one, so ids cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.queryset import QuerySet

from backend.db import fetch_row, model_from_row
from backend.domain.errors import Forbidden, NotFound
from backend.domain.models import Customer, Partner, Role, Wallet


@dataclass(frozen=True)
class Principal:
    role: Role
    key_id: int | None = None
    partner_id: int | None = None
    customer_id: int | None = None

    @property
    def idempotency_scope(self) -> str:
        """Idempotency keys are per caller: per API key, or one scope for internal callers."""
        return f"key:{self.key_id}" if self.key_id is not None else f"system:{self.role}"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


SYSTEM = Principal(role=Role.ADMIN)


def parse_id(value: str | int | None, *, field: str) -> int:
    """Our ids are positive integers; anything else names nothing.

    For the edges (GraphQL resolvers, HTTP routes): ``field`` is the name the
    caller used. Domain operations take the parsed integer.
    """
    if isinstance(value, int):
        number = value
    else:
        text = (value or "").strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 18:
            raise NotFound(f"No such {field.removesuffix('Id') or 'object'}.", field=field)
        number = int(text)
    if number <= 0:
        raise NotFound(f"No such {field.removesuffix('Id')}.", field=field)
    return number


def to_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one is left as it is.

    Near the ends of datetime's range the conversion overflows
    (``0001-01-01T00:00:00+14:00`` is in year 0 in UTC): such a moment is the
    earliest, or the latest, one there is.
    """
    if moment.tzinfo is None:
        return moment
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        extreme = datetime.min if moment.year == datetime.min.year else datetime.max
        return extreme.replace(tzinfo=UTC)


def within(query: QuerySet, since: datetime | None, until: datetime | None) -> QuerySet:
    """``created_at`` in ``[since, until)``. Stored times are UTC and SQLite compares
    them as text, so a caller's offset is normalised here, once for every filter."""
    if since is not None:
        query = query.filter(created_at__gte=to_utc(since))
    if until is not None:
        query = query.filter(created_at__lt=to_utc(until))
    return query


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        allowed = " or ".join(r.value for r in roles)
        raise Forbidden(f"Only a {allowed} key may do this.")


def can_see_partner(principal: Principal, partner_id: int) -> bool:
    return principal.is_admin or principal.partner_id == partner_id


def can_see_customer(principal: Principal, customer: Customer) -> bool:
    return can_see_customer_of(principal, customer.partner_id, customer.id)


def can_see_customer_of(principal: Principal, partner_id: int, customer_id: int) -> bool:
    if principal.is_admin:
        return True
    if principal.role == Role.PARTNER:
        return partner_id == principal.partner_id
    return customer_id == principal.customer_id


async def get_partner(principal: Principal, partner_id: int, field: str = "partner_id") -> Partner:
    if not can_see_partner(principal, partner_id):
        raise NotFound("No such partner.", field=field)
    partner = await Partner.get_or_none(id=partner_id)
    if partner is None:
        raise NotFound("No such partner.", field=field)
    return partner


async def get_customer(
    principal: Principal, customer_id: int, field: str = "customer_id"
) -> Customer:
    customer = await Customer.get_or_none(id=customer_id)
    if customer is None or not can_see_customer(principal, customer):
        raise NotFound("No such customer.", field=field)
    return customer


async def get_wallet(principal: Principal, wallet_id: int, field: str = "wallet_id") -> Wallet:
    # On the path of every money movement: one hand-written join, not the ORM's.
    row = await fetch_row(
        "SELECT w.*, c.partner_id AS owner_partner_id FROM wallets w"
        " JOIN customers c ON c.id = w.customer_id WHERE w.id = $1",
        [wallet_id],
    )
    if row is None or not can_see_customer_of(
        principal, row.pop("owner_partner_id"), row["customer_id"]
    ):
        raise NotFound("No such wallet.", field=field)
    return model_from_row(Wallet, row)


async def get_wallet_to_manage(
    principal: Principal, wallet_id: int, field: str = "wallet_id"
) -> Wallet:
    """A wallet the caller may move money on: ADMIN, or the PARTNER that owns its customer.

    A CUSTOMER key that names its own wallet is told FORBIDDEN (it may see it,
    not credit it); any other wallet is NOT_FOUND.
    """
    wallet = await get_wallet(principal, wallet_id, field)
    require_role(principal, Role.ADMIN, Role.PARTNER)
    return wallet
