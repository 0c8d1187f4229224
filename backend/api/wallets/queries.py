"""Query fields of the wallets area."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from backend.api.context import principal_of
from backend.api.errors import as_graphql_error
from backend.api.inputs import id_of
from backend.api.wallets.types import Wallet
from backend.domain import access
from backend.domain.errors import DomainError


@strawberry.type
class WalletQueries:
    @strawberry.field
    async def wallet(self, info: Info, id: strawberry.ID) -> Wallet | None:
        try:
            return Wallet.from_instance(
                await access.get_wallet(principal_of(info), id_of(id, "id"), "id")
            )
        except DomainError as error:
            raise as_graphql_error(error) from error
