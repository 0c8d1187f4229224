"""The schema's own behaviour under abuse: bounded caches, bounded logs, no hints in production.

- ``SmallDocumentParserCache`` / ``SmallDocumentValidationCache``: strawberry's
  caches, but a document longer than ``max_chars`` is parsed and validated every
  time and never kept (eight distinct 10 MB documents kept 180 MB alive).
- ``HideSuggestions``: in production an error never says "Did you mean …?",
  which would spell out the schema that introspection no longer shows.
- ``DaybookSchema``: runs each operation under the time budget that
  ``backend.api.limits.OperationLimits`` arms for queries, and logs errors as
  one bounded line each, never the document that failed (a rejected document
  may be a megabyte long, or someone's secrets).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from backend.api import limits
from backend.domain.errors import DomainError

log = logging.getLogger("daybook.graphql")
LOGGED_MESSAGE_CHARS = 300
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class SmallDocumentParserCache(ParserCache):
    def __init__(self, maxsize: int, max_chars: int) -> None:
        super().__init__(maxsize=maxsize)
        self.max_chars = max_chars

    def on_parse(self) -> Iterator[None]:
        if len(self.execution_context.query or "") > self.max_chars:
            yield  # strawberry parses it, uncached
            return
        yield from super().on_parse()


class SmallDocumentValidationCache(ValidationCache):
    def __init__(self, maxsize: int, max_chars: int) -> None:
        super().__init__(maxsize=maxsize)
        self.max_chars = max_chars

    def on_validate(self) -> Iterator[None]:
        if len(self.execution_context.query or "") > self.max_chars:
            yield  # strawberry validates it, uncached
            return
        yield from super().on_validate()


def without_suggestions(message: str) -> str:
    return _SUGGESTION.sub("", message)


class HideSuggestions(SchemaExtension):
    """Strip "Did you mean …?" from every error message (production)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if isinstance(result, GraphQLExecutionResult | ExecutionResult) and result.errors:
            result.errors = [self._plain(error) for error in result.errors]

    @staticmethod
    def _plain(error: GraphQLError) -> GraphQLError:
        message = without_suggestions(error.message)
        if message == error.message:
            return error
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=error.original_error,
            extensions=error.extensions,
        )


def _log_line(error: GraphQLError, execution_context: ExecutionContext | None) -> str:
    message = error.message
    if len(message) > LOGGED_MESSAGE_CHARS:
        message = message[:LOGGED_MESSAGE_CHARS] + "…"
    code = (error.extensions or {}).get("code")
    operation = None
    if execution_context is not None:
        operation = execution_context._provided_operation_name
    parts = [f"GraphQL error: {message!r}"]
    if code:
        parts.append(f"code={code}")
    if error.path:
        parts.append("path=" + ".".join(map(str, error.path)))
    if operation:
        parts.append(f"operation={operation[:100]!r}")
    return " ".join(parts)


class DaybookSchema(strawberry.Schema):
    def __init__(self, *args: Any, query_timeout_seconds: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.query_timeout_seconds = query_timeout_seconds

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        # `execute` answers queries and mutations; a subscription needs a socket
        # (graphql-transport-ws) and is refused here (HTTP 400), not half-run.
        allowed = kwargs.get("allowed_operation_types") or DEFAULT_ALLOWED_OPERATION_TYPES
        kwargs["allowed_operation_types"] = set(allowed) - {OperationType.SUBSCRIPTION}
        result = await limits.within_budget(
            lambda: super(DaybookSchema, self).execute(*args, **kwargs),
            self.query_timeout_seconds,
        )
        if result is None:
            error = limits.timeout_error(self.query_timeout_seconds)
            self.process_errors([error])
            return ExecutionResult(data=None, errors=[error])
        return result

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """One bounded line per error; a traceback only for a failure of ours, never the document."""
        for error in errors:
            original = error.original_error
            unexpected = original is not None and not isinstance(
                original, GraphQLError | DomainError
            )
            log.error(
                _log_line(error, execution_context), exc_info=original if unexpected else None
            )
