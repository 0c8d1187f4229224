"""Wallets: per customer balance, available, holds and credit limit (live); top-up; thresholds and
auto-recharge; the ledger with filters and CSV; daily spend by category for 30 days."""

from __future__ import annotations

import reflex as rx

from frontend.components.common import (
    empty,
    error_callout,
    field_error,
    labelled,
    loading,
    option_select,
    scroll_table,
    stat_card,
)
from frontend.components.layout import page
from frontend.components.payments import cards_panel, pay_by_card_form, wallet_payments
from frontend.state.models import LedgerRow, WalletRow
from frontend.state.payments import PaymentsState
from frontend.state.wallets import CATEGORIES, CATEGORY_COLOURS, WalletsState

S = WalletsState

KIND_OPTIONS = [("ALL", "Every kind")] + [
    (k, k.replace("_", " ").capitalize())
    for k in (
        "TOP_UP",
        "AUTO_RECHARGE",
        "CONVERSATION_CHARGE",
        "INTEGRATION_CHARGE",
        "HOLD",
        "HOLD_RELEASE",
        "INVOICE_PAYMENT",
        "REFUND",
        "ADJUSTMENT",
    )
]


def customer_item(row: WalletRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(
                row.customer_name,
                on_click=[S.choose(row.customer_id), PaymentsState.load_payments],
                cursor="pointer",
            ),
            rx.cond(
                row.suspended, rx.badge("Suspended", color_scheme="red", margin_left="0.5em"), ""
            ),
        ),
        rx.table.cell(
            rx.text(
                row.balance_text,
                color_scheme=rx.cond(row.low | row.overdrawn, "orange", "gray"),
                id=f"wallet-balance-{row.wallet_id}",
            ),
            white_space="nowrap",
        ),
        rx.table.cell(row.available_text, white_space="nowrap"),
        background=rx.cond(
            row.customer_id == S.selected_customer, rx.color("accent", 3), "transparent"
        ),
    )


def customer_list() -> rx.Component:
    return rx.card(
        rx.box(
            scroll_table(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Customer"),
                        rx.table.column_header_cell("Balance"),
                        rx.table.column_header_cell("Available"),
                    )
                ),
                rx.table.body(rx.foreach(S.customers, customer_item)),
            ),
            max_height="420px",
            overflow_y="auto",
        ),
        width="100%",
    )


def figures() -> rx.Component:
    w = S.wallet
    return rx.grid(
        stat_card(
            "Balance", w.balance_text, rx.cond(w.overdrawn, "overdrawn", ""), id="wallet-balance"
        ),
        stat_card("Available", w.available_text, "balance - holds + credit", id="wallet-available"),
        stat_card("Held by broadcasts", w.held_text, "", id="wallet-held"),
        stat_card("Credit limit", w.credit_limit_text, "", id="wallet-credit"),
        columns=rx.breakpoints(initial="2", md="4"),
        spacing="3",
        width="100%",
    )


def topup_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Top up", size="3"),
            labelled(
                "Amount",
                rx.input(
                    value=S.topup_amount,
                    on_change=S.set_topup_amount,
                    placeholder="50.00",
                    id="topup-amount",
                ),
                S.topup_errors,
                "amount",
            ),
            labelled(
                "Comment (optional)",
                rx.input(value=S.topup_comment, on_change=S.set_topup_comment, id="topup-comment"),
                S.topup_errors,
                "comment",
            ),
            field_error(S.topup_errors, "form"),
            field_error(S.topup_errors, "walletId"),
            rx.button(
                "Add funds", on_click=S.confirm_topup, loading=S.topping_up, id="topup-confirm"
            ),
            width="100%",
        ),
        width="100%",
    )


def settings_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Alerts and credit", size="3"),
            labelled(
                "Low-balance alert below (empty: no alert)",
                rx.input(value=S.threshold_input, on_change=S.set_threshold_input, id="threshold"),
                S.settings_errors,
                "threshold",
            ),
            rx.cond(
                S.is_customer,
                rx.fragment(),
                labelled(
                    "Credit limit (how far after-the-fact charges may go below zero)",
                    rx.input(value=S.credit_input, on_change=S.set_credit_input, id="credit-limit"),
                    S.settings_errors,
                    "creditLimit",
                ),
            ),
            field_error(S.settings_errors, "form"),
            field_error(S.settings_errors, "walletId"),
            rx.button(
                "Save", on_click=S.save_settings, loading=S.saving_settings, id="settings-save"
            ),
            width="100%",
        ),
        width="100%",
    )


def auto_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Auto-recharge", size="3"),
                rx.switch(checked=S.auto_enabled, on_change=S.set_auto_enabled, id="auto-enabled"),
            ),
            rx.text(S.wallet.auto_text, size="1", color_scheme="gray"),
            rx.cond(
                S.wallet.auto_last_error != "",
                rx.text(
                    "Last attempt failed: ",
                    S.wallet.auto_last_error,
                    " (",
                    S.wallet.auto_failures,
                    " in a row; 3 turn it off)",
                    size="1",
                    color_scheme="red",
                ),
                rx.fragment(),
            ),
            rx.cond(
                S.wallet.auto_pending_since != "",
                rx.text(
                    "A recharge is in flight since ",
                    S.wallet.auto_pending_since,
                    ": the payment gateway has not answered yet; it is asked again "
                    "automatically, and no other recharge starts meanwhile.",
                    size="1",
                    color_scheme="amber",
                    id="auto-pending",
                ),
                rx.fragment(),
            ),
            labelled(
                "When the balance falls below",
                rx.input(value=S.auto_threshold, on_change=S.set_auto_threshold),
                S.auto_errors,
                "threshold",
            ),
            labelled(
                "Add",
                rx.input(value=S.auto_amount, on_change=S.set_auto_amount),
                S.auto_errors,
                "amount",
            ),
            labelled(
                "At most per day (UTC)",
                rx.input(value=S.auto_cap, on_change=S.set_auto_cap),
                S.auto_errors,
                "dailyCap",
            ),
            field_error(S.auto_errors, "form"),
            field_error(S.auto_errors, "input"),
            rx.button(
                "Save auto-recharge", on_click=S.save_auto, loading=S.saving_auto, id="auto-save"
            ),
            width="100%",
        ),
        width="100%",
    )


def spend_chart() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Daily spend by category, last 30 days", size="3"),
                rx.spacer(),
                rx.text("Total ", rx.text.strong(S.spend_total_text), size="2"),
                width="100%",
            ),
            rx.cond(
                S.spend_loading,
                loading("Adding up conversations…"),
                rx.recharts.bar_chart(
                    *[
                        rx.recharts.bar(
                            data_key=c,
                            stack_id="spend",
                            fill=CATEGORY_COLOURS[c],
                            name=c.replace("_", " ").capitalize(),
                        )
                        for c in CATEGORIES
                    ],
                    rx.recharts.x_axis(data_key="day", font_size=11),
                    rx.recharts.y_axis(font_size=11, width=50),
                    rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
                    rx.recharts.graphing_tooltip(),
                    rx.recharts.legend(),
                    data=S.spend,
                    width="100%",
                    height=260,
                ),
            ),
            width="100%",
        ),
        width="100%",
        id="spend-chart",
    )


def ledger_row(row: LedgerRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.created, white_space="nowrap"),
        rx.table.cell(row.kind_label),
        rx.table.cell(
            rx.text(row.amount_text, color_scheme=rx.cond(row.credit, "green", "gray")),
            white_space="nowrap",
        ),
        rx.table.cell(row.balance_after_text, white_space="nowrap"),
        rx.table.cell(row.comment),
        rx.table.cell(rx.text(row.reference, size="1", color_scheme="gray")),
        class_name="ledger-row",
    )


def ledger() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.heading("Ledger", size="3"),
                rx.spacer(),
                option_select(KIND_OPTIONS, S.ledger_kind, S.set_ledger_kind, id="ledger-kind"),
                rx.input(
                    type="date",
                    value=S.ledger_since,
                    on_change=S.set_ledger_since,
                    aria_label="From",
                ),
                rx.input(
                    type="date", value=S.ledger_until, on_change=S.set_ledger_until, aria_label="To"
                ),
                rx.button(
                    rx.icon("download", size=14),
                    "CSV",
                    variant="soft",
                    on_click=S.download_csv,
                    id="ledger-csv",
                ),
                gap="2",
                wrap="wrap",
                width="100%",
                align="center",
            ),
            error_callout(S.csv_error),
            error_callout(S.ledger_error),
            rx.cond(
                S.ledger_loading & (S.ledger.length() == 0),
                loading(),
                rx.cond(
                    S.ledger.length() > 0,
                    scroll_table(
                        rx.table.header(
                            rx.table.row(
                                rx.table.column_header_cell("When"),
                                rx.table.column_header_cell("Kind"),
                                rx.table.column_header_cell("Amount"),
                                rx.table.column_header_cell("Balance after"),
                                rx.table.column_header_cell("Comment"),
                                rx.table.column_header_cell("Reference"),
                            )
                        ),
                        rx.table.body(rx.foreach(S.ledger, ledger_row)),
                        id="ledger-table",
                    ),
                    empty("No ledger entries match."),
                ),
            ),
            rx.hstack(
                rx.text(S.ledger_page_label, size="2"),
                rx.spacer(),
                rx.button(
                    "Previous",
                    size="1",
                    variant="soft",
                    on_click=S.ledger_prev_page,
                    disabled=S.ledger_cursors.length() == 0,
                ),
                rx.button(
                    "Next",
                    size="1",
                    variant="soft",
                    on_click=S.ledger_next_page,
                    disabled=~S.ledger_has_next,
                ),
                width="100%",
            ),
            width="100%",
        ),
        width="100%",
    )


def wallets() -> rx.Component:
    return page(
        "Wallets",
        rx.cond(
            S.loaded_for == "",
            loading("Loading wallets…"),
            rx.cond(
                S.customers.length() == 0,
                empty("No customers yet: a partner creates customers through the API."),
                rx.vstack(
                    rx.flex(
                        rx.cond(
                            S.is_customer,
                            rx.fragment(),
                            rx.box(
                                customer_list(),
                                width=rx.breakpoints(initial="100%", lg="360px"),
                                flex_shrink="0",
                            ),
                        ),
                        rx.vstack(
                            rx.heading(S.wallet.customer_name, size="5", id="wallet-customer"),
                            figures(),
                            rx.grid(
                                rx.cond(S.is_customer, rx.fragment(), topup_form()),
                                settings_form(),
                                auto_form(),
                                columns=rx.breakpoints(initial="1", md="3"),
                                spacing="3",
                                width="100%",
                            ),
                            rx.grid(
                                cards_panel(),
                                pay_by_card_form(),
                                columns=rx.breakpoints(initial="1", md="2"),
                                spacing="3",
                                width="100%",
                            ),
                            wallet_payments(),
                            width="100%",
                            min_width="0",
                        ),
                        direction=rx.breakpoints(initial="column", lg="row"),
                        gap="4",
                        width="100%",
                    ),
                    spend_chart(),
                    ledger(),
                    width="100%",
                    spacing="4",
                ),
            ),
        ),
    )
