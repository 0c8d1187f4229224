"""Per-request context: who is calling, and dataloaders that batch lookups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from graphql import GraphQLError
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from backend.domain.access import Principal
from backend.domain.errors import Unauthenticated
from backend.domain.models import (
    AutoRechargeRule,
    Channel,
    ChannelLot,
    Customer,
    InvoiceLine,
    Partner,
    Plan,
    PlanAssignment,
    Wallet,
)


def _by_id_loader(model: Any, column: str = "id") -> DataLoader:
    async def load(keys: Sequence[int]) -> list[Any]:
        rows = await model.filter(**{f"{column}__in": list(set(keys))})
        found = {getattr(row, column): row for row in rows}
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


def _children_loader(model: Any, column: str, order: str) -> DataLoader:
    """Each key's rows (a list, maybe empty), fetched for a whole page in one query."""

    async def load(keys: Sequence[int]) -> list[list[Any]]:
        rows = await model.filter(**{f"{column}__in": list(set(keys))}).order_by(column, order)
        grouped: dict[int, list[Any]] = {key: [] for key in keys}
        for row in rows:
            grouped[getattr(row, column)].append(row)
        return [grouped[key] for key in keys]

    return DataLoader(load_fn=load)


class Loaders:
    """The request's dataloaders, each built the first time a resolver asks for it.

    Most requests (a debit, a webhook) use none: building all of them per
    request was garbage for the collector and nothing else.
    """

    @cached_property
    def partner(self) -> DataLoader:
        return _by_id_loader(Partner)

    @cached_property
    def customer(self) -> DataLoader:
        return _by_id_loader(Customer)

    @cached_property
    def plan(self) -> DataLoader:
        return _by_id_loader(Plan)

    @cached_property
    def channel(self) -> DataLoader:
        return _by_id_loader(Channel)

    @cached_property
    def wallet_by_customer(self) -> DataLoader:
        return _by_id_loader(Wallet, "customer_id")

    @cached_property
    def recharge_rule_by_wallet(self) -> DataLoader:
        return _by_id_loader(AutoRechargeRule, "wallet_id")

    @cached_property
    def invoice_lines(self) -> DataLoader:
        return _children_loader(InvoiceLine, "invoice_id", "position")

    @cached_property
    def channel_lots(self) -> DataLoader:
        return _children_loader(ChannelLot, "channel_id", "id")

    @cached_property
    def plan_assignments(self) -> DataLoader:
        return _children_loader(PlanAssignment, "customer_id", "effective_from")


@dataclass
class Context:
    principal: Principal | None
    loaders: Loaders = field(default_factory=Loaders)
    request: Any = None
    response: Any = None
    # graphql-transport-ws: the connection_init payload ({"Authorization": "Bearer ..."}).
    connection_params: dict[str, Any] | None = None
    # DAYBOOK_PUBLIC_URL: the base of links handed out; None = relative links.
    public_url: str | None = None


def public_link(public_url: str | None, path: str) -> str:
    """``path`` under the configured public URL, or relative; never from a request header."""
    return f"{public_url.rstrip('/')}{path}" if public_url else path


def principal_of(info: Info) -> Principal:
    principal = info.context.principal
    if principal is None:
        raise GraphQLError("An API key is required.", extensions={"code": Unauthenticated.code})
    return principal


def loaders_of(info: Info) -> Loaders:
    return info.context.loaders
