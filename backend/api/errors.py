"""How domain errors reach a GraphQL caller.

Mutations answer a ``DomainError`` with ``userErrors`` in their payload;
queries, which have no payload, answer it with a GraphQL error carrying the
same stable code in ``extensions.code``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError

from backend.domain.errors import DomainError


@strawberry.type
class UserError:
    field: list[str] | None
    code: str
    message: str

    @classmethod
    def from_error(cls, error: DomainError) -> UserError:
        return cls(field=error.field, code=error.code, message=error.message)


PayloadT = TypeVar("PayloadT")


async def payload_or_user_errors(
    payload_type: type[PayloadT], build: Callable[[], Awaitable[PayloadT]]
) -> PayloadT:
    """Run a mutation body; a domain rule failure becomes the payload's userErrors."""
    try:
        return await build()
    except DomainError as error:
        fields: dict[str, Any] = {"user_errors": [UserError.from_error(error)]}
        return payload_type(**fields)


def as_graphql_error(error: DomainError) -> GraphQLError:
    extensions: dict[str, Any] = {"code": error.code}
    if error.field:
        extensions["field"] = error.field
    return GraphQLError(error.message, extensions=extensions, original_error=error)
