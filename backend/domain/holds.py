"""Broadcast holds: refuse up front what cannot be paid or sent, reserve the rest.

``authorize_broadcast`` prices every recipient from the rate card, checks the
channel, the customer and the messaging tier, and reserves the total against
``available``. Each recipient's share is then settled exactly once: captured
when its conversation is charged, released when its message fails, and
whatever is left goes back when the hold is released or expires.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient

from backend.db import dialect_sql
from backend.domain import access, ledger, locking, pricing, rates
from backend.domain.access import Principal
from backend.domain.channels import LIVE, effective_status, get_channel
from backend.domain.clock import clock
from backend.domain.errors import (
    ChannelInactive,
    CustomerSuspended,
    InvalidArgument,
    NotFound,
    TierLimitExceeded,
)
from backend.domain.locking import lock_channels
from backend.domain.models import (
    Conversation,
    ConversationCategory,
    Customer,
    Hold,
    HoldRecipient,
    HoldRecipientState,
    HoldStatus,
    MessagingTier,
    Role,
    Wallet,
)
from backend.domain.payers import payer_for_channel
from backend.domain.unit_of_work import transaction

# Meta's messaging limits: unique recipients of business-initiated messages per rolling 24 hours.
TIER_LIMITS: dict[MessagingTier, int | None] = {
    MessagingTier.TIER_250: 250,
    MessagingTier.TIER_2K: 2_000,
    MessagingTier.TIER_10K: 10_000,
    MessagingTier.TIER_100K: 100_000,
    MessagingTier.TIER_UNLIMITED: None,
}
MAX_RECIPIENTS = 100_000
MIN_TTL = timedelta(seconds=60)
DEFAULT_TTL = timedelta(hours=24)
MAX_TTL = timedelta(days=7)
WINDOW = timedelta(hours=24)


async def recent_recipients(channel_id: int, now: datetime) -> set[str]:
    """Who this channel reached, or was cleared to reach, in the rolling 24 hours."""
    reached = await Conversation.filter(
        channel_id=channel_id, opened_at__gt=now - WINDOW, origin="BUSINESS_INITIATED"
    ).values_list("recipient", flat=True)
    cleared = (
        await HoldRecipient.filter(channel_id=channel_id, hold__created_at__gt=now - WINDOW)
        .exclude(state=HoldRecipientState.RELEASED)
        .values_list("recipient", flat=True)
    )
    return set(reached) | set(cleared)


async def authorize_broadcast(
    principal: Principal,
    *,
    channel_id: int,
    category: ConversationCategory,
    recipients: list[str],
    ttl: timedelta = DEFAULT_TTL,
) -> Hold:
    """Price, check and reserve a broadcast to ``recipients`` (distinct E.164 numbers).

    Domain values only: the API layer parses the numbers, refuses duplicates
    and checks the ttl against ``MIN_TTL``..``MAX_TTL``, naming the fields.
    """
    channel = await get_channel(principal, channel_id)
    async with transaction() as conn:
        # The channel row is locked first: two broadcasts on one channel are
        # checked against the tier one after the other, never side by side.
        (channel,) = await lock_channels(conn, [channel.id])
        now = clock.now()
        if effective_status(channel, now) not in LIVE:
            raise ChannelInactive("The channel is not active; extend it first.", field="channel_id")
        customer = await Customer.get(id=channel.customer_id).using_db(conn)
        if customer.suspended:
            raise CustomerSuspended("Broadcasting is suspended until the overdue invoice is paid.")
        limit = TIER_LIMITS[MessagingTier(channel.messaging_tier)]
        if limit is not None:
            reach = await recent_recipients(channel.id, now) | set(recipients)
            if len(reach) > limit:
                raise TierLimitExceeded(
                    f"{len(reach)} unique recipients in 24 hours exceed the channel's limit of {limit}.",
                    field="recipients",
                )
        payer = await payer_for_channel(conn, channel.id)
        book = await rates.cards_of(conn, payer.currency_code, payer.card_stamp)
        card = await book.card_at(conn, now)
        shares: list[tuple[str, int]] = []
        for number in recipients:
            quote = pricing.quote(
                card,
                pricing.recipient(number).country,
                category,
                payer.markup_percent_micros,
                billable=True,
                currency_code=payer.currency_code,
                at=now,
            )
            shares.append((number, quote.micros))
        total = sum(price for _, price in shares)
        if total > 0:
            await ledger.hold(conn, wallet_id=payer.wallet_id, amount_micros=total)
        hold = await Hold.create(
            wallet_id=payer.wallet_id,
            channel_id=channel.id,
            category=category,
            amount_micros=total,
            remaining_micros=total,
            status=HoldStatus.ACTIVE,
            recipients=len(recipients),
            expires_at=now + ttl,
            created_at=now,
            using_db=conn,
        )
        await HoldRecipient.bulk_create(
            [
                HoldRecipient(
                    hold_id=hold.id,
                    channel_id=channel.id,
                    recipient=number,
                    price_micros=price,
                    state=HoldRecipientState.PENDING,
                )
                for number, price in shares
            ],
            batch_size=1000,
            using_db=conn,
        )
    return hold


async def settle_share(
    conn: BaseDBAsyncClient,
    *,
    channel_id: int,
    recipient: str,
    captured: bool,
    settled_by: str,
) -> bool:
    """Settle the oldest pending share for this recipient on this channel, once per cause.

    ``captured``: its conversation was charged; otherwise its message failed.
    ``settled_by`` names the cause ("charge:<key>", "failed:<message id>"); a
    cause already used settles nothing, whatever Meta retries or an admin
    replays. Either way the reservation goes back to ``available``; the charge
    itself is posted by ``charging``. Locks: hold row, then share, then wallet.
    """
    if (
        await HoldRecipient.filter(channel_id=channel_id, settled_by=settled_by)
        .using_db(conn)
        .exists()
    ):
        return False
    rows = await conn.execute_query_dict(
        dialect_sql(
            conn,
            "SELECT r.id, r.hold_id, r.price_micros, h.wallet_id FROM hold_recipients r"
            " JOIN holds h ON h.id = r.hold_id WHERE r.channel_id = $1 AND r.recipient = $2"
            " AND r.state = 'PENDING' AND h.status = 'ACTIVE' ORDER BY r.id LIMIT 1",
        ),
        [channel_id, recipient],
    )
    if not rows:
        return False
    share = rows[0]
    hold = await locking.lock_hold(conn, share["hold_id"])
    if hold is None or hold.status != HoldStatus.ACTIVE:
        return False
    state = HoldRecipientState.CAPTURED if captured else HoldRecipientState.RELEASED
    taken = (
        await HoldRecipient.filter(id=share["id"], state=HoldRecipientState.PENDING)
        .using_db(conn)
        .update(state=state, settled_by=settled_by)
    )
    if not taken:  # settled by a concurrent status
        return False
    await _give_back(conn, share["hold_id"], share["wallet_id"], share["price_micros"])
    return True


async def _give_back(conn: BaseDBAsyncClient, hold_id: int, wallet_id: int, micros: int) -> None:
    if micros <= 0:
        return
    await conn.execute_query(
        dialect_sql(
            conn,
            "UPDATE holds SET remaining_micros = remaining_micros - $2,"
            " status = CASE WHEN remaining_micros - $2 > 0 THEN status"
            " WHEN EXISTS (SELECT 1 FROM hold_recipients WHERE hold_id = $1"
            " AND state = 'CAPTURED') THEN 'CAPTURED' ELSE 'RELEASED' END"
            " WHERE id = $1",
        ),
        [hold_id, micros],
    )
    await ledger.release_held(conn, wallet_id=wallet_id, amount_micros=micros)


async def _close(conn: BaseDBAsyncClient, hold: Hold, status: HoldStatus) -> int:
    """Release every pending share of ``hold`` and close it; the amount given back."""
    await (
        HoldRecipient.filter(hold_id=hold.id, state=HoldRecipientState.PENDING)
        .using_db(conn)
        .update(state=HoldRecipientState.RELEASED)
    )
    remaining = hold.remaining_micros
    closed = (
        await Hold.filter(id=hold.id, status=HoldStatus.ACTIVE)
        .using_db(conn)
        .update(status=status, remaining_micros=0)
    )
    if closed and remaining:
        await ledger.release_held(conn, wallet_id=hold.wallet_id, amount_micros=remaining)
    return remaining if closed else 0


async def get_hold(principal: Principal, hold_id: int) -> Hold:
    hold = await Hold.get_or_none(id=hold_id)
    if hold is None:
        raise NotFound("No such hold.", field="hold_id")
    wallet = await Wallet.get(id=hold.wallet_id).select_related("customer")
    if not access.can_see_customer(principal, wallet.customer):
        raise NotFound("No such hold.", field="hold_id")
    return hold


async def release_hold(principal: Principal, *, hold_id: int) -> Hold:
    access.require_role(principal, Role.ADMIN, Role.PARTNER, Role.CUSTOMER)
    hold = await get_hold(principal, hold_id)
    async with transaction() as conn:
        locked = await locking.lock_hold(conn, hold.id)
        if locked.status != HoldStatus.ACTIVE:
            raise InvalidArgument(f"The hold is already {locked.status}.", field="hold_id")
        await _close(conn, locked, HoldStatus.RELEASED)
    return await Hold.get(id=hold.id)


async def expire_holds() -> int:
    """Jobs loop: what is left of holds past their expiry goes back to ``available``."""
    now = clock.now()
    expired = 0
    for hold in await Hold.filter(status=HoldStatus.ACTIVE, expires_at__lte=now):
        async with transaction() as conn:
            locked = await locking.lock_hold(conn, hold.id)
            if locked.status == HoldStatus.ACTIVE:
                await _close(conn, locked, HoldStatus.EXPIRED)
                expired += 1
    return expired
