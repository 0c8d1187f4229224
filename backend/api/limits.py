"""What one GraphQL operation may ask for, checked before anything runs.

The depth, alias and token limits are strawberry's own (``backend/api/schema.py``);
this module adds what they cannot see:

- **Cost.** Every selected field counts 1 (a paged field, a query of its own,
  counts ``PAGED_FIELD_COST``), and everything selected under a paged
  field (one with a ``first`` argument) counts once per item of its page: the
  ``first`` given (a literal or a variable), the default page size when absent.
  A connection inside a connection multiplies; aliases add up, since each alias
  is a field of its own. Over ``max_query_cost`` the operation is answered
  ``QUERY_TOO_COSTLY`` without running a resolver.
- **List arguments.** Each list argument (a literal or a variable, and lists
  inside input objects) is counted before the variables are even coerced; over
  its maximum the operation is answered ``TOO_MANY_ITEMS``, naming the argument.
- **One operation named.** A document of several operations needs
  ``operationName`` (the GraphQL spec says so); without it, ``OPERATION_NAME_REQUIRED``.
- **Time.** A query (reads only: a mutation is never cut off half-way) that runs
  past ``query_timeout_seconds`` is cancelled and answered ``QUERY_TIMEOUT``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension

from backend.api.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

TOO_COSTLY = "QUERY_TOO_COSTLY"
TOO_MANY_ITEMS = "TOO_MANY_ITEMS"
TIMEOUT = "QUERY_TIMEOUT"
OPERATION_NAME_REQUIRED = "OPERATION_NAME_REQUIRED"
PAGE_ARGUMENT = "first"
# A paged field is a database query of its own (per item of an outer page): it counts more.
PAGED_FIELD_COST = 10


@dataclass(frozen=True)
class Limits:
    max_cost: int
    # A subscription runs its selection at every event, for as long as it is open.
    max_subscription_cost: int
    max_list_items: int
    # (field, argument) -> its own maximum, e.g. ("authorizeBroadcast", "recipients").
    list_maxima: Mapping[tuple[str, str], int]
    query_timeout_seconds: float


# ---- cost -------------------------------------------------------------------


class _CostWalker:
    """Cost of one operation; fragments are costed once each (they cannot recurse once valid)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.fragment_costs: dict[str, int] = {}

    def selection_set(self, selections: SelectionSetNode | None, parent: Any) -> int:
        if selections is None:
            return 0
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                type_ = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_set(selection.selection_set, type_)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total

    def fragment(self, name: str) -> int:
        if name not in self.fragment_costs:
            self.fragment_costs[name] = 0  # a cycle (refused by validation anyway) costs nothing
            definition = self.fragments.get(name)
            if definition is not None:
                type_ = self.schema.get_type(definition.type_condition.name.value)
                self.fragment_costs[name] = self.selection_set(definition.selection_set, type_)
        return self.fragment_costs[name]

    def field(self, node: FieldNode, parent: Any) -> int:
        fields = getattr(parent, "fields", None) or {}
        definition = fields.get(node.name.value)
        if definition is None:
            # __typename, introspection, or a field validation already refused: no page here.
            return 1 + self.selection_set(node.selection_set, None)
        child: GraphQLNamedType = get_named_type(definition.type)
        if PAGE_ARGUMENT not in definition.args:
            return 1 + self.selection_set(node.selection_set, child)
        return PAGED_FIELD_COST + self.page_items(node) * self.selection_set(
            node.selection_set, child
        )

    def page_items(self, node: FieldNode) -> int:
        """The page a paged field will answer with; the resolver refuses what is out of range."""
        value: Any = None
        for argument in node.arguments or ():
            if argument.name.value == PAGE_ARGUMENT:
                value = self.value_of(argument.value)
        if not isinstance(value, int) or isinstance(value, bool):
            return DEFAULT_PAGE_SIZE
        return max(0, min(value, MAX_PAGE_SIZE))

    def value_of(self, node: ValueNode) -> Any:
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        if isinstance(node, IntValueNode):
            return int(node.value)
        return None


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
) -> int:
    """The cost of ``operation`` with these variables (see the module's docstring)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    given = dict(variables or {})
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in given and isinstance(definition.default_value, IntValueNode):
            given[name] = int(definition.default_value.value)
    root = schema.get_root_type(operation.operation)
    return _CostWalker(schema, fragments, given).selection_set(operation.selection_set, root)


# ---- list arguments -----------------------------------------------------------


def _fields(selections: SelectionSetNode | None, document: DocumentNode) -> Iterator[FieldNode]:
    """Every field of a selection set, through fragments (each fragment visited once)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    pending = [selections]
    seen: set[str] = set()
    while pending:
        current = pending.pop()
        if current is None:
            continue
        for selection in current.selections:
            if isinstance(selection, FieldNode):
                yield selection
                pending.append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = fragments.get(selection.name.value)
                pending.append(fragment.selection_set if fragment else None)


def _longest_inner_list(value: Any) -> int:
    """The longest list nested anywhere inside ``value`` (a JSON value), without recursion."""
    longest = 0
    pending = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, list):
            longest = max(longest, len(current))
            pending.extend(current)
        elif isinstance(current, dict):
            pending.extend(current.values())
    return longest


def _as_json(node: ValueNode, variables: Mapping[str, Any]) -> Any:
    """Enough of a literal to count its lists: lists and objects, variables looked up."""
    if isinstance(node, VariableNode):
        return variables.get(node.name.value)
    if isinstance(node, ListValueNode):
        return [_as_json(item, variables) for item in node.values]
    if isinstance(node, ObjectValueNode):
        return {field.name.value: _as_json(field.value, variables) for field in node.fields}
    return None


def oversized_list(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
    limits: Limits,
) -> GraphQLError | None:
    """The first list argument over its maximum, as the error to answer; None when all fit."""
    variables = variables or {}
    for field in _fields(operation.selection_set, document):
        for argument in field.arguments or ():
            value = _as_json(argument.value, variables)
            if isinstance(value, list):
                items = len(value)
                inner = max((_longest_inner_list(item) for item in value), default=0)
            else:
                items, inner = 0, _longest_inner_list(value)
            name = (field.name.value, argument.name.value)
            maximum = limits.list_maxima.get(name, limits.max_list_items)
            if items > maximum or inner > limits.max_list_items:
                biggest = maximum if items > maximum else limits.max_list_items
                return GraphQLError(
                    f"{name[0]}.{name[1]} takes at most {biggest} items per list.",
                    extensions={"code": TOO_MANY_ITEMS, "field": [name[1]], "maximum": biggest},
                )
    return None


# ---- the extension --------------------------------------------------------------

# The request's time budget, opened by DaybookSchema.execute and armed for queries only.
_budget: ContextVar[asyncio.Timeout | None] = ContextVar("daybook_query_budget", default=None)


def _single_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def _refuse(message: str, code: str, **extensions: Any) -> GraphQLExecutionResult:
    return GraphQLExecutionResult(
        data=None, errors=[GraphQLError(message, extensions={"code": code, **extensions})]
    )


class OperationLimits(SchemaExtension):
    """Refuse, before execution, an operation that is ambiguous, too costly or too long."""

    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self.limits = limits

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        # The name the caller gave (strawberry falls back on the first operation by itself).
        named = context._provided_operation_name
        operation = _single_operation(document, named) if document else None
        if document is not None and operation is None and named is None:
            context.result = _refuse(
                "This document has several operations: say which one with operationName.",
                OPERATION_NAME_REQUIRED,
            )
        elif operation is not None:
            context.result = self.check(context.schema._schema, document, operation)
        if (
            context.result is not None
            and operation is not None
            and operation.operation == OperationType.SUBSCRIPTION
        ):
            # A subscription ignores a result set here (strawberry would open the
            # stream anyway, and run the costly selection at every event): an
            # error raised from this hook is its one and only answer instead.
            raise context.result.errors[0]
        budget = _budget.get()
        timed = (
            budget is not None
            and context.result is None
            and operation is not None
            and operation.operation == OperationType.QUERY
            and self.limits.query_timeout_seconds > 0
        )
        if timed:
            budget.reschedule(asyncio.get_running_loop().time() + self.limits.query_timeout_seconds)
        yield
        if timed:
            budget.reschedule(None)

    def check(
        self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
    ) -> GraphQLExecutionResult | None:
        variables = self.execution_context.variables
        too_long = oversized_list(document, operation, variables, self.limits)
        if too_long is not None:
            return GraphQLExecutionResult(data=None, errors=[too_long])
        cost = operation_cost(schema, document, operation, variables)
        maximum = (
            self.limits.max_subscription_cost
            if operation.operation == OperationType.SUBSCRIPTION
            else self.limits.max_cost
        )
        if cost > maximum:
            return _refuse(
                f"This operation would cost {cost}, over the limit of {maximum}: "
                "ask for smaller pages (first) or fewer nested connections.",
                TOO_COSTLY,
                cost=cost,
                maximum=maximum,
            )
        return None


def timeout_error(seconds: float) -> GraphQLError:
    return GraphQLError(
        f"The query ran past its time budget of {seconds:g} s and was stopped; "
        "ask for less at once.",
        extensions={"code": TIMEOUT},
    )


async def within_budget(run, seconds: float):
    """Run ``run()`` (a schema execution) under the request's time budget, armed by the extension."""
    try:
        async with asyncio.timeout(None) as budget:
            token = _budget.set(budget)
            try:
                return await run()
            finally:
                _budget.reset(token)
    except TimeoutError:
        return None
