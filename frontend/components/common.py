"""Small building blocks shared by the pages: errors next to controls, cards, empty and loading states."""

from __future__ import annotations

from typing import Any

import reflex as rx


def field_error(errors: rx.Var, field: str, **props: Any) -> rx.Component:
    """The userError for ``field`` in plain words, right under the control that caused it."""
    return rx.cond(
        errors.contains(field),
        rx.text(
            errors[field].to(str),
            color_scheme="red",
            size="2",
            role="alert",
            class_name="field-error",
            **props,
        ),
        rx.fragment(),
    )


def labelled(label: str, control: rx.Component, errors: rx.Var | None, field: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        control,
        field_error(errors, field) if errors is not None else rx.fragment(),
        spacing="1",
        width="100%",
    )


def stat_card(label: str, value: rx.Var | str, detail: Any = "", **props: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color_scheme="gray"),
            rx.heading(value, size="6", **props),
            rx.text(detail, size="1", color_scheme="gray"),
            spacing="1",
        ),
        width="100%",
    )


def loading(text: str = "Loading…") -> rx.Component:
    return rx.hstack(rx.spinner(), rx.text(text, color_scheme="gray"), padding="1em")


def empty(text: str) -> rx.Component:
    return rx.center(rx.text(text, color_scheme="gray"), padding="2em", width="100%")


def error_callout(message: rx.Var) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle_alert", color_scheme="red", role="alert", width="100%"),
        rx.fragment(),
    )


def scroll_table(*children: rx.Component, **props: Any) -> rx.Component:
    """Tables scroll sideways on a phone instead of squeezing their columns."""
    return rx.box(
        rx.table.root(*children, size="1", width="100%", **props),
        overflow_x="auto",
        width="100%",
    )


def table_header(*titles: str) -> rx.Component:
    """A table's header row, one plain column title each."""
    return rx.table.header(rx.table.row(*(rx.table.column_header_cell(t) for t in titles)))


def status_badge(status: rx.Var) -> rx.Component:
    return rx.match(
        status,
        ("ACTIVE", rx.badge("Active", color_scheme="green")),
        ("TRIAL", rx.badge("Trial", color_scheme="blue")),
        ("PENDING", rx.badge("Pending", color_scheme="gray")),
        ("EXPIRED", rx.badge("Expired", color_scheme="red")),
        ("DELETED", rx.badge("Deleted", color_scheme="gray", variant="outline")),
        ("DRAFT", rx.badge("Draft", color_scheme="gray")),
        ("OPEN", rx.badge("Open", color_scheme="amber")),
        ("PAID", rx.badge("Paid", color_scheme="green")),
        ("VOID", rx.badge("Void", color_scheme="gray", variant="outline")),
        rx.badge(status),
    )


def option_select(
    options: list[tuple[str, str]], value: rx.Var, on_change: Any, **props: Any
) -> rx.Component:
    """A select over fixed (value, label) pairs."""
    return rx.select.root(
        rx.select.trigger(**props),
        rx.select.content(*[rx.select.item(label, value=v) for v, label in options]),
        value=value,
        on_change=on_change,
    )
