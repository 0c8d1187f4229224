"""Channels: sortable, filterable, paginated; create (trial options), extend one or many, delete."""

from __future__ import annotations

import reflex as rx

from frontend.components.common import (
    empty,
    field_error,
    labelled,
    loading,
    option_select,
    scroll_table,
    status_badge,
)
from frontend.components.layout import page
from frontend.state.channels import PRESETS, ChannelsState
from frontend.state.models import ChannelRow

S = ChannelsState

STATUS_OPTIONS = [
    ("LIVE", "All but deleted"),
    ("ALL", "All"),
    ("ACTIVE", "Active"),
    ("TRIAL", "Trial"),
    ("PENDING", "Pending"),
    ("EXPIRED", "Expired"),
    ("DELETED", "Deleted"),
]
TIER_OPTIONS = [
    ("ALL", "Any tier"),
    ("TIER_250", "250"),
    ("TIER_2K", "2K"),
    ("TIER_10K", "10K"),
    ("TIER_100K", "100K"),
    ("TIER_UNLIMITED", "Unlimited"),
]


def sort_header(label: str, key: str) -> rx.Component:
    arrow = rx.cond(
        S.sort_key == key,
        rx.cond(S.sort_desc, rx.icon("arrow_down", size=12), rx.icon("arrow_up", size=12)),
        rx.fragment(),
    )
    return rx.table.column_header_cell(
        rx.hstack(rx.text(label), arrow, spacing="1", align="center"),
        on_click=S.sort_by(key),
        cursor="pointer",
        white_space="nowrap",
        id=f"sort-{key}",
    )


def channel_row(channel: ChannelRow) -> rx.Component:
    deleted = channel.status == "DELETED"
    return rx.table.row(
        rx.cond(
            S.manages_partner,
            rx.table.cell(
                rx.checkbox(
                    checked=S.selected.contains(channel.id),
                    on_change=lambda _: S.toggle(channel.id),
                    disabled=deleted,
                    id=f"select-{channel.id}",
                )
            ),
            rx.fragment(),
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(channel.name, weight="medium"),
                rx.text(channel.phone, size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(channel.customer_name),
        rx.table.cell(status_badge(channel.status), id=f"status-{channel.id}"),
        rx.table.cell(rx.text(channel.days_remaining, id=f"days-{channel.id}")),
        rx.table.cell(channel.active_until, white_space="nowrap"),
        rx.table.cell(channel.tier_label),
        rx.cond(
            S.manages_partner,
            rx.table.cell(
                rx.cond(
                    deleted,
                    rx.fragment(),
                    rx.hstack(
                        rx.button(
                            "Extend",
                            size="1",
                            on_click=S.open_extend_one(channel.id),
                            id=f"extend-{channel.id}",
                        ),
                        rx.button(
                            "Delete",
                            size="1",
                            variant="soft",
                            color_scheme="red",
                            on_click=S.open_delete(channel.id),
                            id=f"delete-{channel.id}",
                        ),
                        spacing="1",
                    ),
                )
            ),
            rx.fragment(),
        ),
        class_name="channel-row",
    )


def filters() -> rx.Component:
    return rx.flex(
        rx.input(
            placeholder="Search name, number or customer",
            value=S.search,
            on_change=S.set_search.debounce(250),
            width=rx.breakpoints(initial="100%", sm="260px"),
            id="channel-search",
        ),
        option_select(STATUS_OPTIONS, S.status_filter, S.set_status_filter, id="status-filter"),
        option_select(TIER_OPTIONS, S.tier_filter, S.set_tier_filter, id="tier-filter"),
        rx.cond(
            S.is_customer,
            rx.fragment(),
            rx.select.root(
                rx.select.trigger(placeholder="Any customer", id="customer-filter"),
                rx.select.content(
                    rx.select.item("Any customer", value="ALL"),
                    rx.foreach(
                        S.customer_options, lambda o: rx.select.item(o.label, value=o.value)
                    ),
                ),
                value=S.customer_filter,
                on_change=S.set_customer_filter,
            ),
        ),
        gap="2",
        wrap="wrap",
        width="100%",
    )


def selection_bar() -> rx.Component:
    return rx.cond(
        S.manages_partner & (S.selected_count > 0),
        rx.callout(
            rx.hstack(
                rx.text(f"{S.selected_count} selected"),
                rx.button(
                    "Extend selected",
                    size="1",
                    on_click=S.open_extend_selected,
                    id="extend-selected",
                ),
                rx.button("Clear", size="1", variant="soft", on_click=S.clear_selection),
                align="center",
                wrap="wrap",
            ),
            icon="list_checks",
        ),
        rx.fragment(),
    )


def pager() -> rx.Component:
    return rx.flex(
        rx.text(S.page_label, size="2", id="page-label"),
        rx.spacer(),
        option_select(
            [("25", "25 a page"), ("50", "50 a page"), ("100", "100 a page")],
            S.page_size.to_string(),
            S.set_page_size,
        ),
        rx.button(
            rx.icon("chevron_left", size=14),
            "Previous",
            size="1",
            variant="soft",
            on_click=S.prev_page,
            disabled=S.page == 0,
            id="prev-page",
        ),
        rx.button(
            "Next",
            rx.icon("chevron_right", size=14),
            size="1",
            variant="soft",
            on_click=S.next_page,
            disabled=(S.page + 1) >= S.page_count,
            id="next-page",
        ),
        gap="2",
        align="center",
        width="100%",
        wrap="wrap",
    )


def table() -> rx.Component:
    return rx.cond(
        S.loaded_for == "",
        loading("Loading channels…"),
        rx.cond(
            S.matching > 0,
            scroll_table(
                rx.table.header(
                    rx.table.row(
                        rx.cond(
                            S.manages_partner,
                            rx.table.column_header_cell(
                                rx.checkbox(
                                    checked=S.all_on_page_selected,
                                    on_change=S.toggle_page,
                                    id="select-page",
                                )
                            ),
                            rx.fragment(),
                        ),
                        sort_header("Channel", "name"),
                        sort_header("Customer", "customer"),
                        sort_header("Status", "status"),
                        sort_header("Days left", "days"),
                        sort_header("Active until", "until"),
                        sort_header("Tier", "tier"),
                        rx.cond(S.manages_partner, rx.table.column_header_cell(""), rx.fragment()),
                    )
                ),
                rx.table.body(rx.foreach(S.rows, channel_row)),
                id="channels-table",
            ),
            empty("No channel matches these filters."),
        ),
    )


def extend_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Extend channels"),
            rx.dialog.description(S.extend_targets, size="2", color_scheme="gray"),
            rx.vstack(
                rx.text("Days to add to each channel", size="2", weight="medium"),
                rx.segmented_control.root(
                    *[rx.segmented_control.item(f"{p} days", value=p) for p in PRESETS],
                    rx.segmented_control.item("Custom", value="custom"),
                    value=S.extend_preset,
                    on_change=S.set_extend_preset,
                    id="extend-presets",
                ),
                rx.cond(
                    S.extend_preset == "custom",
                    rx.input(
                        placeholder="Number of days (1 to 3650)",
                        value=S.extend_custom,
                        on_change=S.set_extend_custom,
                        type="number",
                        id="extend-custom",
                    ),
                    rx.fragment(),
                ),
                field_error(S.extend_errors, "days", id="extend-days-error"),
                field_error(S.extend_errors, "channelId"),
                field_error(S.extend_errors, "items"),
                labelled(
                    "Comment (shown in the billing history)",
                    rx.text_area(
                        placeholder="Why these days? e.g. 'Renewal for March, invoice 1234'",
                        value=S.extend_comment,
                        on_change=S.set_extend_comment,
                        width="100%",
                        id="extend-comment",
                    ),
                    S.extend_errors,
                    "comment",
                ),
                rx.card(
                    rx.vstack(
                        rx.text(S.extend_summary, size="2", id="extend-cost"),
                        rx.text(
                            "Day balance now ",
                            rx.text.strong(S.day_balance),
                            " → after ",
                            rx.text.strong(
                                S.extend_balance_after,
                                color_scheme=rx.cond(S.extend_balance_after < 0, "red", "green"),
                                id="extend-balance-after",
                            ),
                            size="2",
                        ),
                        rx.cond(
                            S.extend_balance_after < 0,
                            rx.text(
                                "The balance does not have enough days for this extension.",
                                size="2",
                                color_scheme="red",
                            ),
                            rx.fragment(),
                        ),
                        spacing="1",
                    ),
                    width="100%",
                ),
                field_error(S.extend_errors, "form", id="extend-form-error"),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button(
                        "Confirm extension",
                        on_click=S.confirm_extend,
                        loading=S.extending,
                        id="extend-confirm",
                    ),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
                id="extend-form",
            ),
            max_width="520px",
        ),
        open=S.extend_open,
        on_open_change=S.set_extend_open,
    )


def create_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New channel"),
            rx.vstack(
                labelled(
                    "Customer",
                    rx.select.root(
                        rx.select.trigger(placeholder="Choose a customer", width="100%"),
                        rx.select.content(
                            rx.foreach(
                                S.customer_options, lambda o: rx.select.item(o.label, value=o.value)
                            )
                        ),
                        value=S.create_customer,
                        on_change=S.set_create_customer,
                    ),
                    S.create_errors,
                    "customerId",
                ),
                labelled(
                    "Name",
                    rx.input(value=S.create_name, on_change=S.set_create_name, id="create-name"),
                    S.create_errors,
                    "name",
                ),
                labelled(
                    "Phone number (international, e.g. +14155550123)",
                    rx.input(value=S.create_phone, on_change=S.set_create_phone, id="create-phone"),
                    S.create_errors,
                    "phoneNumber",
                ),
                labelled(
                    "WhatsApp phone_number_id (optional)",
                    rx.input(value=S.create_phone_id, on_change=S.set_create_phone_id),
                    S.create_errors,
                    "phoneNumberId",
                ),
                rx.hstack(
                    rx.switch(
                        checked=S.create_trial, on_change=S.set_create_trial, id="create-trial"
                    ),
                    rx.text("Start with a 5-day trial", size="2"),
                ),
                rx.cond(
                    S.create_trial,
                    rx.vstack(
                        rx.cond(
                            S.trial_eligible,
                            rx.text(
                                "This partner's trials are free.", size="2", color_scheme="green"
                            ),
                            rx.text(
                                "This partner has no free trials: the 5 days can be paid from the day balance.",
                                size="2",
                                color_scheme="amber",
                            ),
                        ),
                        rx.hstack(
                            rx.checkbox(
                                checked=S.create_fund, on_change=S.set_create_fund, id="create-fund"
                            ),
                            rx.text("Pay the trial days from the day balance", size="2"),
                        ),
                    ),
                    rx.fragment(),
                ),
                field_error(S.create_errors, "trial"),
                field_error(S.create_errors, "form"),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button(
                        "Create channel",
                        on_click=S.confirm_create,
                        loading=S.creating,
                        id="create-confirm",
                    ),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            max_width="520px",
        ),
        open=S.create_open,
        on_open_change=S.set_create_open,
    )


def delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete channel"),
            rx.alert_dialog.description(S.delete_name, size="2"),
            rx.vstack(
                rx.callout(S.delete_refund_text, icon="undo_2", id="delete-refund"),
                labelled(
                    "Comment (shown in the billing history)",
                    rx.input(
                        value=S.delete_comment, on_change=S.set_delete_comment, id="delete-comment"
                    ),
                    S.delete_errors,
                    "comment",
                ),
                field_error(S.delete_errors, "channelId"),
                field_error(S.delete_errors, "form"),
                rx.hstack(
                    rx.alert_dialog.cancel(
                        rx.button("Keep it", variant="soft", color_scheme="gray")
                    ),
                    rx.button(
                        "Delete and refund",
                        color_scheme="red",
                        on_click=S.confirm_delete,
                        loading=S.deleting,
                        disabled=S.delete_refund < 0,
                        id="delete-confirm",
                    ),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            max_width="480px",
        ),
        open=S.delete_open,
        on_open_change=S.set_delete_open,
    )


def channels() -> rx.Component:
    return page(
        "Channels",
        rx.cond(
            S.manages_partner,
            rx.text(
                "Day balance: ",
                rx.text.strong(S.day_balance_text, id="channels-day-balance"),
                size="2",
            ),
            rx.fragment(),
        ),
        filters(),
        selection_bar(),
        table(),
        pager(),
        extend_dialog(),
        create_dialog(),
        delete_dialog(),
        actions=rx.cond(
            S.manages_partner,
            rx.button(
                rx.icon("plus", size=14), "New channel", on_click=S.open_create, id="new-channel"
            ),
            rx.fragment(),
        ),
    )
