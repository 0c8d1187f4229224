"""The Subscription root: live changes over graphql-transport-ws, after commit only.

Each resolver checks what the caller may see, subscribes to the bus topics
of exactly that, and turns every event into API objects from the rows the
event carries: delivery reads nothing from the database, so a partner-wide
stream costs no query per event. A caller never subscribes to another
tenant's topics: a foreign id is answered NOT_FOUND and streams nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any, TypeVar

import strawberry
from starlette.websockets import WebSocket
from strawberry.types import Info
from tortoise.fields import DatetimeField

from backend.api.alerts.types import Alert
from backend.api.channels.types import Channel
from backend.api.context import principal_of
from backend.api.days.types import DayEntry
from backend.api.errors import as_graphql_error
from backend.api.inputs import id_of
from backend.api.tenants.types import Partner
from backend.api.wallets.types import LedgerEntry, Wallet
from backend.db import model_from_row
from backend.domain import access, channels, models
from backend.domain.access import Principal
from backend.domain.errors import DomainError, Forbidden
from backend.events import topics as topic_names
from backend.events.bus import Dropped, Event, bus
from backend.metrics import SUBSCRIBERS_DROPPED, SUBSCRIPTIONS

ModelT = TypeVar("ModelT")


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


def _row(model: type[ModelT], row: dict[str, Any]) -> ModelT:
    """A model instance from an event's row: no database read at delivery.

    Events carry JSON-safe rows (datetimes as ISO text), the same in-process
    and through Redis; the ORM's own conversion does the rest.
    """
    values = dict(row)
    for name in _datetime_columns(model):
        value = values.get(name)
        if isinstance(value, str):
            values[name] = datetime.fromisoformat(value)
    return model_from_row(model, values)


def _datetime_columns(model: type) -> list[str]:
    cached = _DATETIME_COLUMNS.get(model)
    if cached is None:
        cached = [
            column
            for name, column in model._meta.fields_db_projection.items()
            if isinstance(model._meta.fields_map[name], DatetimeField)
        ]
        _DATETIME_COLUMNS[model] = cached
    return cached


_DATETIME_COLUMNS: dict[type, list[str]] = {}


def _tenant_topics(principal: Principal, kind: str) -> list[str]:
    """Everything of ``kind`` the caller may see, when it names no object."""
    if principal.role == models.Role.ADMIN:
        return [topic_names.every(kind)]
    if principal.role == models.Role.PARTNER:
        return [topic_names.partner(principal.partner_id, kind)]
    return [topic_names.customer(principal.customer_id, kind)]


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Every committed movement of a wallet the caller may see.")
    async def balance_changed(
        self, info: Info, wallet_id: strawberry.ID | None = None
    ) -> AsyncGenerator[BalanceEvent, None]:
        principal = principal_of(info)
        try:
            if wallet_id is not None:
                wallet = await access.get_wallet(principal, id_of(wallet_id, "walletId"))
                topics = [topic_names.wallet(wallet.id)]
            else:
                topics = _tenant_topics(principal, topic_names.BALANCE)
        except DomainError as error:
            raise as_graphql_error(error) from error
        async for event in _events(info, topics):
            wallet = _row(models.Wallet, event.data["wallet"])
            entry = _row(models.LedgerEntry, event.data["entry"])
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
                partner = await access.get_partner(principal, id_of(partner_id, "partnerId"))
                topics = [topic_names.partner(partner.id, topic_names.DAYS)]
            else:
                topics = _tenant_topics(principal, topic_names.DAYS)
        except DomainError as error:
            raise as_graphql_error(error) from error
        async for event in _events(info, topics):
            partner = _row(models.Partner, event.data["partner"])
            entry = _row(models.DayEntry, event.data["entry"])
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
                channel = await channels.get_channel(principal, id_of(channel_id, "channelId"))
                topics = [topic_names.channel(channel.id)]
            else:
                topics = _tenant_topics(principal, topic_names.CHANNEL)
        except DomainError as error:
            raise as_graphql_error(error) from error
        async for event in _events(info, topics):
            yield Channel.from_instance(_row(models.Channel, event.data["channel"]))

    @strawberry.subscription(description="Alerts as they fire, and again when they resolve.")
    async def alerts(self, info: Info) -> AsyncGenerator[Alert, None]:
        topics = _tenant_topics(principal_of(info), topic_names.ALERT)
        async for event in _events(info, topics):
            yield Alert.from_instance(_row(models.Alert, event.data["alert"]))
