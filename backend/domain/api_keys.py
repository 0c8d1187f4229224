"""API keys: made, shown once, stored hashed, checked on every request, revocable.

A key reads ``dbk_<12 chars>_<43 chars>``. The first part (the *prefix*) is
stored in clear to find the row and to name the key when revoking it; only the
SHA-256 of the whole key is kept, compared in constant time.

A key checked once is remembered by each worker for ``CACHE_SECONDS`` (the
lookup was a round trip on every request). Revoking a key drops it from every
worker's memory before the revocation answers: here at once, elsewhere through
a control event on the bus (Redis between workers); a worker whose bus may
have missed events forgets every key (``backend.control``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from backend.db import fetch_row
from backend.domain import access, unit_of_work, validation
from backend.domain.access import Principal
from backend.domain.clock import clock
from backend.domain.errors import Forbidden, InvalidArgument, NotFound, Unauthenticated
from backend.domain.models import ApiKey, Customer, Role
from backend.events import changes, topics
from backend.events.bus import bus

_KEY_SHAPE = re.compile(r"^(dbk_[a-z0-9]{12})_[A-Za-z0-9_-]{43}$")

INVALID_KEY = "Invalid API key: unknown, revoked or malformed."
CACHE_SECONDS = 30.0
CACHE_LIMIT = 10_000
# SHA-256 of the key -> who it is and when that was read (time.monotonic()).
_checked: dict[str, tuple[Principal, float]] = {}


def forget(key_id: int | None = None) -> None:
    """Drop one key (by id) from this worker's memory, or every key."""
    if key_id is None:
        _checked.clear()
        return
    for digest, (principal, _) in list(_checked.items()):
        if principal.key_id == key_id:
            del _checked[digest]


@dataclass(frozen=True)
class IssuedKey:
    """A key just made: the only moment its secret exists outside the caller's hands."""

    secret: str
    record: ApiKey


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_secret() -> tuple[str, str]:
    prefix = "dbk_" + "".join(
        secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(12)
    )
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


async def issue(
    role: Role, partner_id: int | None = None, customer_id: int | None = None
) -> IssuedKey:
    """Make a key for a tenant (no permission check: callers decide who may)."""
    prefix, secret = _new_secret()
    record = await ApiKey.create(
        prefix=prefix,
        key_hash=_hash(secret),
        role=role,
        partner_id=partner_id,
        customer_id=customer_id,
        created_at=clock.now(),
    )
    return IssuedKey(secret=secret, record=record)


def prefix_of(authorization: str | None) -> str | None:
    """The key prefix an Authorization header names, if it has the shape of a key (throttling)."""
    secret = (authorization or "").strip().partition(" ")[2].strip()
    match = _KEY_SHAPE.match(secret)
    return match.group(1) if match else None


async def authenticate(authorization: str | None) -> Principal:
    """``Authorization: Bearer <key>`` -> the caller, or ``Unauthenticated``."""
    if not authorization:
        raise Unauthenticated("Send an API key as 'Authorization: Bearer <key>'.")
    scheme, _, secret = authorization.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise Unauthenticated("Send an API key as 'Authorization: Bearer <key>'.")
    match = _KEY_SHAPE.match(secret)
    if match is None:
        raise Unauthenticated(INVALID_KEY)
    digest = _hash(secret)
    remembered = _checked.get(digest)
    if remembered is not None and time.monotonic() - remembered[1] < CACHE_SECONDS:
        return remembered[0]
    # One indexed lookup, no ORM query building.
    row = await fetch_row(
        "SELECT id, key_hash, role, partner_id, customer_id, revoked_at FROM api_keys"
        " WHERE prefix = $1",
        [match.group(1)],
    )
    # Unknown, revoked or malformed: one answer, so keys cannot be told apart by probing.
    if row is None or not hmac.compare_digest(row["key_hash"], digest):
        raise Unauthenticated(INVALID_KEY)
    if row["revoked_at"] is not None:
        raise Unauthenticated(INVALID_KEY)
    principal = Principal(
        role=Role(row["role"]),
        key_id=row["id"],
        partner_id=row["partner_id"],
        customer_id=row["customer_id"],
    )
    if len(_checked) >= CACHE_LIMIT:
        _checked.clear()
    _checked[digest] = (principal, time.monotonic())
    return principal


async def create_for(
    principal: Principal,
    role: Role,
    partner_id: int | None = None,
    customer_id: int | None = None,
) -> IssuedKey:
    """``createApiKey``: a caller may mint keys for itself or for tenants below it."""
    if role == Role.ADMIN:
        access.require_role(principal, Role.ADMIN)
        if partner_id is not None or customer_id is not None:
            raise InvalidArgument("An ADMIN key belongs to no partner or customer.")
        return await issue(Role.ADMIN)
    if role == Role.PARTNER:
        access.require_role(principal, Role.ADMIN, Role.PARTNER)
        if partner_id is None or customer_id is not None:
            raise InvalidArgument(
                "A PARTNER key needs partnerId and no customerId.", field="partner_id"
            )
        partner = await access.get_partner(principal, partner_id)
        return await issue(Role.PARTNER, partner_id=partner.id)
    if customer_id is None:
        raise InvalidArgument("A CUSTOMER key needs customerId.", field="customer_id")
    customer: Customer = await access.get_customer(principal, customer_id)
    if partner_id is not None and partner_id != customer.partner_id:
        raise InvalidArgument("That customer belongs to another partner.", field="partner_id")
    return await issue(Role.CUSTOMER, partner_id=customer.partner_id, customer_id=customer.id)


async def revoke(principal: Principal, prefix: str) -> ApiKey:
    """``revokeApiKey``: revoke a key the caller could have minted (or its own)."""
    clean = validation.free_text(prefix, field="key_prefix").strip()
    record = await ApiKey.get_or_none(prefix=clean) if len(clean) <= 100 else None
    if record is None or not _may_manage(principal, record):
        raise NotFound("No such API key.", field="key_prefix")
    if record.role == Role.ADMIN and not principal.is_admin:
        raise Forbidden("Only an ADMIN key may revoke an ADMIN key.")
    if record.revoked_at is None:
        # Revocation is a one-way switch; a second call changes nothing.
        async with unit_of_work.transaction() as conn:
            await (
                ApiKey.filter(id=record.id, revoked_at=None)
                .using_db(conn)
                .update(revoked_at=clock.now())
            )
            unit_of_work.record(changes.control(topics.API_KEY_REVOKED, key_id=record.id))
        forget(record.id)
        # Answer only once the other workers have been told.
        await bus.flush()
        await record.refresh_from_db()
    return record


def _may_manage(principal: Principal, record: ApiKey) -> bool:
    if principal.is_admin:
        return True
    if principal.role == Role.PARTNER:
        return record.partner_id == principal.partner_id
    return record.customer_id == principal.customer_id
