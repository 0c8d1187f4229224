"""Billing history: every movement of the partner's day balance, with its comment."""

from __future__ import annotations

import reflex as rx

from frontend.components.common import empty, error_callout, loading, option_select, scroll_table
from frontend.components.layout import page
from frontend.components.payments import buy_days_form, day_purchases
from frontend.state.billing import BillingState
from frontend.state.models import DayEntryRow

S = BillingState

KIND_OPTIONS = [
    ("ALL", "Every kind"),
    ("PURCHASE", "Purchase"),
    ("ALLOCATION", "Allocation"),
    ("TRIAL", "Trial"),
    ("TRIAL_FUNDED", "Trial funded"),
    ("REFUND", "Refund"),
    ("ADJUSTMENT", "Adjustment"),
]


def entry_row(entry: DayEntryRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(entry.created, white_space="nowrap"),
        rx.table.cell(entry.kind_label),
        rx.table.cell(
            rx.text(entry.days_text, color_scheme=rx.cond(entry.days > 0, "green", "gray")),
        ),
        rx.table.cell(entry.balance_after),
        rx.table.cell(entry.channel),
        rx.table.cell(entry.comment, class_name="entry-comment"),
        class_name="day-entry-row",
    )


def billing() -> rx.Component:
    return page(
        "Billing history",
        rx.grid(
            buy_days_form(),
            day_purchases(),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        rx.flex(
            option_select(KIND_OPTIONS, S.kind_filter, S.set_kind_filter, id="billing-kind"),
            rx.select.root(
                rx.select.trigger(placeholder="Every channel"),
                rx.select.content(
                    rx.select.item("Every channel", value="ALL"),
                    rx.foreach(S.channel_choices, lambda c: rx.select.item(c[1], value=c[0])),
                ),
                value=S.channel_filter,
                on_change=S.set_channel_filter,
            ),
            rx.input(type="date", value=S.since, on_change=S.set_since, aria_label="From"),
            rx.input(type="date", value=S.until, on_change=S.set_until, aria_label="To"),
            rx.button(
                rx.icon("download", size=14),
                "CSV",
                variant="soft",
                on_click=S.download_csv,
                id="billing-csv",
            ),
            gap="2",
            wrap="wrap",
            width="100%",
        ),
        error_callout(S.csv_error),
        error_callout(S.history_error),
        rx.cond(
            S.history_loading & (S.entries.length() == 0),
            loading("Loading the billing history…"),
            rx.cond(
                S.entries.length() > 0,
                scroll_table(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("When"),
                            rx.table.column_header_cell("Kind"),
                            rx.table.column_header_cell("Days"),
                            rx.table.column_header_cell("Balance after"),
                            rx.table.column_header_cell("Channel"),
                            rx.table.column_header_cell("Comment"),
                        )
                    ),
                    rx.table.body(rx.foreach(S.entries, entry_row)),
                    id="billing-table",
                ),
                empty("No day entries match these filters."),
            ),
        ),
        rx.hstack(
            rx.text(S.page_label, size="2"),
            rx.spacer(),
            rx.button(
                "Previous",
                size="1",
                variant="soft",
                on_click=S.prev_page,
                disabled=S.cursors.length() == 0,
            ),
            rx.button("Next", size="1", variant="soft", on_click=S.next_page, disabled=~S.has_next),
            width="100%",
        ),
        actions=rx.text("Day balance: ", rx.text.strong(S.day_balance_text), size="2"),
    )
