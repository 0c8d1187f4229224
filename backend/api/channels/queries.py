"""Query fields of the channels area."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from backend.api.channels.types import Channel
from backend.api.context import principal_of
from backend.api.errors import as_graphql_error
from backend.api.inputs import id_of
from backend.domain import channels
from backend.domain.errors import DomainError


@strawberry.type
class ChannelQueries:
    @strawberry.field
    async def channel(self, info: Info, id: strawberry.ID) -> Channel | None:
        try:
            return Channel.from_instance(
                await channels.get_channel(principal_of(info), id_of(id, "id"), "id")
            )
        except DomainError as error:
            raise as_graphql_error(error) from error
