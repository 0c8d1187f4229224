"""How domain errors reach a GraphQL caller.

Mutations answer a ``DomainError`` with ``userErrors`` in their payload;
queries, which have no payload, answer it with a GraphQL error carrying the
same stable code in ``extensions.code``.

The domain names the argument an error concerns by its own (snake_case) name,
``wallet_id`` or ``days``; the client sees the GraphQL path. This module is the
one place that turns one into the other: each segment is camel-cased the way
strawberry names an argument (``wallet_id`` -> ``walletId``, list indexes and
names already camel-cased pass through), and a resolver whose argument is not
simply the domain's name in camelCase says so with ``renamed``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.utils.str_converters import to_camel_case

from backend.domain.errors import DomainError

NO_RENAMES: Mapping[str, str] = {}


def graphql_path(
    field: list[str] | None, renamed: Mapping[str, str] = NO_RENAMES
) -> list[str] | None:
    """The GraphQL path of the input a domain error names, e.g. ``["walletId"]``."""
    if field is None:
        return None
    return [renamed.get(segment, to_camel_case(segment)) for segment in field]


@strawberry.type
class UserError:
    field: list[str] | None
    code: str
    message: str

    @classmethod
    def from_error(cls, error: DomainError, renamed: Mapping[str, str] = NO_RENAMES) -> UserError:
        return cls(field=graphql_path(error.field, renamed), code=error.code, message=error.message)


PayloadT = TypeVar("PayloadT")


async def payload_or_user_errors(
    payload_type: type[PayloadT],
    build: Callable[[], Awaitable[PayloadT]],
    renamed: Mapping[str, str] = NO_RENAMES,
) -> PayloadT:
    """Run a mutation body; a domain rule failure becomes the payload's userErrors."""
    try:
        return await build()
    except DomainError as error:
        fields: dict[str, Any] = {"user_errors": [UserError.from_error(error, renamed)]}
        return payload_type(**fields)


def as_graphql_error(error: DomainError, renamed: Mapping[str, str] = NO_RENAMES) -> GraphQLError:
    extensions: dict[str, Any] = {"code": error.code}
    path = graphql_path(error.field, renamed)
    if path:
        extensions["field"] = path
    return GraphQLError(error.message, extensions=extensions, original_error=error)
