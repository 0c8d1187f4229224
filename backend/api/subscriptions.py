"""The Subscription root: live changes over graphql-transport-ws, after commit only.

Each resolver checks what the caller may see, subscribes to the bus topics
of exactly that, and turns every event into fresh API objects (read after the
commit that produced the event). A caller never subscribes to another
tenant's topics: a foreign id is answered NOT_FOUND and streams nothing.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncGenerator

import strawberry
from starlette.websockets import WebSocket
from strawberry.types import Info

from backend.api.context import principal_of
from backend.api.errors import as_graphql_error
from backend.api.types import Alert, Channel, DayEntry, LedgerEntry, Partner, Wallet
from backend.domain import access, channels, models
from backend.domain.access import Principal
from backend.domain.errors import DomainError, Forbidden
from backend.events.bus import Dropped, Event, bus
from backend.metrics import SUBSCRIBERS_DROPPED, SUBSCRIPTIONS


@strawberry.type
class BalanceEvent:
    wallet: Wallet
    entry: LedgerEntry


@strawberry.type
class DayBalanceEvent:
    partner: Partner
    entry: DayEntry


# Per API key and worker: enough for any dashboard, far below what would hurt the server.
MAX_SUBSCRIPTIONS_PER_KEY = 100
_active_per_key: Counter[int | None] = Counter()


async def _close(info: Info, code: int, reason: str) -> None:
    websocket = info.context.request
    if isinstance(websocket, WebSocket):
        await websocket.close(code=code, reason=reason)


async def _events(info: Info, topics: list[str]) -> AsyncGenerator[Event, None]:
    """The bus events on ``topics``, counted against the key's limit.

    Too many subscriptions from one key, a listener that fell too far behind,
    or a bus that may have lost events (Redis reconnecting) closes the
    connection with a code and a reason the client can read.
    """
    key_id = principal_of(info).key_id
    if _active_per_key[key_id] >= MAX_SUBSCRIPTIONS_PER_KEY:
        await _close(info, 4429, f"at most {MAX_SUBSCRIPTIONS_PER_KEY} subscriptions per API key")
        return
    _active_per_key[key_id] += 1
    SUBSCRIPTIONS.inc()
    try:
        async for event in bus.subscribe(topics):
            yield event
    except Dropped as dropped:  # fell behind, or the bus lost events: the client must resync
        SUBSCRIBERS_DROPPED.labels(str(dropped.code)).inc()
        await _close(info, dropped.code, dropped.reason)
    finally:
        _active_per_key[key_id] -= 1
        SUBSCRIPTIONS.dec()


class _DeliveryCache:
    """Rows read for an event, shared by every local subscriber that receives it.

    A partner-wide stream sees every movement: without this each subscriber
    would read the same wallet and entry again for the same event.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._loads: dict[tuple, asyncio.Future] = {}

    async def get(self, key: tuple, load) -> object:
        future = self._loads.get(key)
        if future is None:
            future = asyncio.ensure_future(load())
            self._loads[key] = future
            if len(self._loads) > self.size:
                self._loads.pop(next(iter(self._loads)))
        return await asyncio.shield(future)


_cache = _DeliveryCache()


def _tenant_topics(principal: Principal, kind: str) -> list[str]:
    """Everything of ``kind`` the caller may see, when it names no object."""
    if principal.role == models.Role.ADMIN:
        return [f"{kind}:*"]
    if principal.role == models.Role.PARTNER:
        return [f"partner:{principal.partner_id}:{kind}"]
    return [f"customer:{principal.customer_id}:{kind}"]


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Every committed movement of a wallet the caller may see.")
    async def balance_changed(
        self, info: Info, wallet_id: strawberry.ID | None = None
    ) -> AsyncGenerator[BalanceEvent, None]:
        principal = principal_of(info)
        try:
            if wallet_id is not None:
                wallet = await access.get_wallet(principal, wallet_id)
                topics = [f"wallet:{wallet.id}"]
            else:
                topics = _tenant_topics(principal, "balance")
        except DomainError as error:
            raise as_graphql_error(error) from error
        async for event in _events(info, topics):
            wallet_id, entry_id = event.data["wallet_id"], event.data["entry_id"]

            async def load(wallet_id: int = wallet_id, entry_id: int = entry_id):
                return (
                    await models.Wallet.get(id=wallet_id),
                    await models.LedgerEntry.get(id=entry_id),
                )

            wallet, entry = await _cache.get(("balance", wallet_id, entry_id), load)
            yield BalanceEvent(
                wallet=Wallet.from_instance(wallet),
                entry=LedgerEntry.from_instance(entry, wallet.currency_code),
            )

    @strawberry.subscription(description="Every committed movement of a partner's day balance.")
    async def day_balance_changed(
        self, info: Info, partner_id: strawberry.ID | None = None
    ) -> AsyncGenerator[DayBalanceEvent, None]:
        principal = principal_of(info)
        try:
            if principal.role == models.Role.CUSTOMER:
                raise Forbidden("A customer cannot follow its partner's day balance.")
            if partner_id is not None:
                partner = await access.get_partner(principal, partner_id)
                topics = [f"partner:{partner.id}:days"]
            else:
                topics = _tenant_topics(principal, "days")
        except DomainError as error:
            raise as_graphql_error(error) from error
        async for event in _events(info, topics):
            partner = await models.Partner.get(id=event.data["partner_id"])
            entry = await models.DayEntry.get(id=event.data["entry_id"])
            yield DayBalanceEvent(
                partner=Partner.from_instance(partner), entry=DayEntry.from_instance(entry)
            )

    @strawberry.subscription(description="A channel as it is after each committed change.")
    async def channel_changed(
        self, info: Info, channel_id: strawberry.ID | None = None
    ) -> AsyncGenerator[Channel, None]:
        principal = principal_of(info)
        try:
            if channel_id is not None:
                channel = await channels.get_channel(principal, channel_id)
                topics = [f"channel:{channel.id}"]
            else:
                topics = _tenant_topics(principal, "channel")
        except DomainError as error:
            raise as_graphql_error(error) from error
        async for event in _events(info, topics):
            yield Channel.from_instance(await models.Channel.get(id=event.data["channel_id"]))

    @strawberry.subscription(description="Alerts as they fire, and again when they resolve.")
    async def alerts(self, info: Info) -> AsyncGenerator[Alert, None]:
        topics = _tenant_topics(principal_of(info), "alert")
        async for event in _events(info, topics):
            yield Alert.from_instance(await models.Alert.get(id=event.data["alert_id"]))
