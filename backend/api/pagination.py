"""Relay connections over Tortoise querysets, keyset-paginated by id.

``totalCount`` is a resolver of its own: the ``COUNT(*)`` runs only when a
query selects it, never for a page that only lists.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import strawberry
from graphql import GraphQLError
from tortoise.queryset import QuerySet

from backend.domain.errors import InvalidArgument

MAX_PAGE_SIZE = 200
# Ids are 64-bit signed integers in every database: a cursor past that names nothing.
MAX_ID = 2**63 - 1
DEFAULT_PAGE_SIZE = 50

NodeT = TypeVar("NodeT")
ModelT = TypeVar("ModelT")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    node: NodeT
    cursor: str


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    _count_query: strawberry.Private[QuerySet]

    @strawberry.field
    async def total_count(self) -> int:
        return await self._count_query.count()


def encode_cursor(row_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{row_id}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "id" and value.isascii() and value.isdigit() and len(value) <= 19:
            number = int(value)
            if number <= MAX_ID:
                return number
    except (ValueError, UnicodeDecodeError):
        pass
    raise GraphQLError(
        "Invalid cursor.", extensions={"code": InvalidArgument.code, "field": ["after"]}
    )


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise GraphQLError(
            f"first must be from 1 to {MAX_PAGE_SIZE}.",
            extensions={"code": InvalidArgument.code, "field": ["first"]},
        )
    return first


@dataclass(frozen=True)
class Page(Generic[ModelT]):
    rows: Sequence[ModelT]
    has_next_page: bool
    # The whole filtered query, before the cursor: what totalCount counts, if asked.
    count_query: QuerySet


async def fetch_page(
    query: QuerySet, *, first: int | None, after: str | None, newest_first: bool
) -> Page:
    """One page of ``query`` ordered by id, after the cursor (the count is left to totalCount)."""
    size = page_size(first)
    count_query = query
    if after:
        cursor_id = decode_cursor(after)
        query = query.filter(id__lt=cursor_id) if newest_first else query.filter(id__gt=cursor_id)
    rows = await query.order_by("-id" if newest_first else "id").limit(size + 1)
    return Page(rows=rows[:size], has_next_page=len(rows) > size, count_query=count_query)


def to_connection(page: Page, convert: Callable[[ModelT], NodeT]) -> Connection[NodeT]:
    edges = [Edge(node=convert(row), cursor=encode_cursor(row.id)) for row in page.rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        _count_query=page.count_query,
    )
