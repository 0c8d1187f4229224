"""Pieces of the payments UI: saved cards with the provider's card Element, the pay-by-card form,
and tables of payments with their status."""

from __future__ import annotations

import reflex as rx

from frontend.components.common import (
    empty,
    error_callout,
    field_error,
    labelled,
    scroll_table,
    table_header,
)
from frontend.state import day_purchases as purchases_state
from frontend.state import payments as payments_state
from frontend.state.day_purchases import DayPurchasesState
from frontend.state.models import CardRow, PaymentRow
from frontend.state.payments import PaymentsState
from frontend.stripe_js import CARD_ELEMENT_ID

P = PaymentsState


def payment_badge(status: rx.Var) -> rx.Component:
    return rx.match(
        status,
        ("SUCCEEDED", rx.badge("Succeeded", color_scheme="green")),
        ("PENDING", rx.badge("Pending", color_scheme="gray")),
        ("REQUIRES_ACTION", rx.badge("Action required", color_scheme="amber")),
        ("FAILED", rx.badge("Failed", color_scheme="red")),
        ("CANCELED", rx.badge("Canceled", color_scheme="gray", variant="outline")),
        rx.badge(status),
    )


def finish_buttons(row: PaymentRow, pay, authenticate, busy: rx.Var) -> rx.Component:
    """ "Pay with a card" for a PENDING payment, "Authenticate" for REQUIRES_ACTION (payer only)."""
    return rx.match(
        row.finish,
        (
            "pay",
            rx.button(
                "Pay with a card",
                size="1",
                variant="soft",
                on_click=pay(row.id),
                class_name="payment-pay",
            ),
        ),
        (
            "authenticate",
            rx.button(
                "Authenticate",
                size="1",
                variant="soft",
                color_scheme="amber",
                on_click=authenticate(row.id),
                loading=busy,
                class_name="payment-authenticate",
            ),
        ),
        rx.fragment(),
    )


def finish_form(
    state, element_id: str, confirm, cancel, form_id: str, notice_id: str
) -> rx.Component:
    """The card Element that pays a PENDING payment; always in the page (React never replaces
    what Stripe.js put inside it), shown while a payment is being paid."""
    return rx.vstack(
        rx.box(
            rx.text("Card details (sent to the payment provider only)", size="2"),
            rx.box(id=element_id, padding="0.5em 0"),
            field_error(state.finish_errors, "card"),
            rx.hstack(
                rx.button(
                    "Pay",
                    on_click=confirm,
                    loading=state.finishing,
                    disabled=~state.finish_ready,
                    id=f"{form_id}-confirm",
                ),
                rx.button("Cancel", variant="soft", on_click=cancel),
            ),
            display=rx.cond(state.finish_id != "", "block", "none"),
            width="100%",
            id=form_id,
        ),
        field_error(state.finish_errors, "form", id=f"{form_id}-error"),
        rx.cond(
            state.finish_notice != "",
            rx.callout(state.finish_notice, color_scheme="green", size="1", id=notice_id),
            rx.fragment(),
        ),
        width="100%",
    )


def card_row(card: CardRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(card.brand),
        rx.table.cell("•••• ", card.last4, class_name="card-last4"),
        rx.table.cell(card.expiry),
        rx.table.cell(
            rx.cond(
                card.is_default,
                rx.badge("Default", color_scheme="green"),
                rx.button(
                    "Make default",
                    size="1",
                    variant="soft",
                    on_click=P.set_default_card(card.id),
                    class_name="card-make-default",
                ),
            )
        ),
        rx.table.cell(
            rx.button(
                "Remove",
                size="1",
                variant="soft",
                color_scheme="red",
                on_click=P.remove_card(card.id),
                class_name="card-remove",
            )
        ),
        class_name="card-row",
    )


def cards_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Cards", size="3"),
                rx.spacer(),
                rx.cond(
                    P.adding_card,
                    rx.fragment(),
                    rx.button(
                        rx.icon("credit-card", size=14),
                        "Add a card",
                        size="1",
                        variant="soft",
                        on_click=P.start_add_card,
                        id="card-add",
                    ),
                ),
                width="100%",
            ),
            error_callout(P.cards_error),
            rx.cond(
                P.cards.length() > 0,
                scroll_table(
                    table_header("Brand", "Number", "Expires", "", ""),
                    rx.table.body(rx.foreach(P.cards, card_row)),
                    id="cards-table",
                ),
                empty("No saved card."),
            ),
            # The provider's card Element mounts here; it stays in the page so React never
            # replaces what Stripe.js put inside it.
            rx.box(
                rx.text("Card details (sent to the payment provider only)", size="2"),
                rx.box(id=CARD_ELEMENT_ID, padding="0.5em 0"),
                field_error(P.card_errors, "card"),
                field_error(P.card_errors, "form"),
                field_error(P.card_errors, "customerId"),
                field_error(P.card_errors, "setupIntentId"),
                rx.hstack(
                    rx.button(
                        "Save card",
                        on_click=P.save_card,
                        loading=P.saving_card,
                        disabled=~P.card_ready,
                        id="card-save",
                    ),
                    rx.button("Cancel", variant="soft", on_click=P.cancel_add_card),
                ),
                display=rx.cond(P.adding_card, "block", "none"),
                width="100%",
                id="card-form",
            ),
            rx.cond(
                P.adding_card,
                rx.fragment(),
                rx.box(
                    field_error(P.card_errors, "form"),
                    field_error(P.card_errors, "customerId"),
                ),
            ),
            width="100%",
        ),
        width="100%",
    )


def pay_by_card_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Top up by card", size="3"),
            labelled(
                "Amount",
                rx.input(
                    value=P.pay_amount,
                    on_change=P.set_pay_amount,
                    placeholder="50.00",
                    id="card-pay-amount",
                ),
                P.pay_errors,
                "amount",
            ),
            labelled(
                "Card",
                rx.select.root(
                    rx.select.trigger(id="card-pay-card"),
                    rx.select.content(
                        rx.foreach(P.card_choices, lambda c: rx.select.item(c[1], value=c[0]))
                    ),
                    value=P.pay_card,
                    on_change=P.set_pay_card,
                ),
                P.pay_errors,
                "paymentMethodId",
            ),
            field_error(P.pay_errors, "form", id="card-pay-error"),
            field_error(P.pay_errors, "walletId"),
            rx.cond(
                P.pay_notice != "",
                rx.callout(P.pay_notice, color_scheme="amber", size="1", id="card-pay-notice"),
                rx.fragment(),
            ),
            rx.button(
                "Pay by card", on_click=P.pay_by_card, loading=P.paying, id="card-pay-confirm"
            ),
            width="100%",
        ),
        width="100%",
    )


def payment_row(row: PaymentRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.created, white_space="nowrap"),
        rx.table.cell(row.purpose),
        rx.table.cell(row.amount_text, white_space="nowrap"),
        rx.table.cell(payment_badge(row.status), class_name="payment-status"),
        rx.table.cell(
            rx.cond(row.failure_code != "", rx.code(row.failure_code), ""),
            rx.text(row.help, size="1", color_scheme="gray"),
        ),
        rx.table.cell(finish_buttons(row, P.start_finish, P.authenticate, P.finishing)),
        class_name="payment-row",
    )


def payments_table(rows: rx.Var, error: rx.Var, table_id: str, none: str) -> rx.Component:
    return rx.vstack(
        error_callout(error),
        rx.cond(
            rows.length() > 0,
            scroll_table(
                table_header("When", "For", "Amount", "Status", "Details", ""),
                rx.table.body(rx.foreach(rows, payment_row)),
                id=table_id,
            ),
            empty(none),
        ),
        width="100%",
    )


def wallet_payments() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Payments by card", size="3"),
            payments_table(P.payments, P.payments_error, "payments-table", "No card payment yet."),
            finish_form(
                P,
                payments_state.PAY_ELEMENT_ID,
                P.confirm_finish,
                P.cancel_finish,
                "payment-finish",
                "payment-finish-notice",
            ),
            width="100%",
        ),
        width="100%",
    )


D = DayPurchasesState


def buy_days_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Buy days", size="3"),
            rx.text("Paid to the platform at ", D.day_price_text, " per day.", size="2"),
            labelled(
                "Days",
                rx.input(
                    value=D.buy_days_input,
                    on_change=D.set_buy_days,
                    placeholder="30",
                    input_mode="numeric",
                    id="buy-days",
                ),
                D.buy_errors,
                "days",
            ),
            rx.cond(
                D.buy_cost_text != "",
                rx.text(D.buy_cost_text, size="2", weight="medium", id="buy-days-cost"),
                rx.fragment(),
            ),
            field_error(D.buy_errors, "form", id="buy-days-error"),
            field_error(D.buy_errors, "partnerId"),
            rx.cond(
                D.buy_notice != "",
                rx.callout(D.buy_notice, color_scheme="amber", size="1", id="buy-days-notice"),
                rx.fragment(),
            ),
            rx.cond(
                D.buy_reviewing,
                rx.hstack(
                    rx.button(
                        "Confirm: pay ",
                        D.buy_cost_text,
                        on_click=D.confirm_purchase,
                        loading=D.buying,
                        id="buy-days-confirm",
                    ),
                    rx.button("Cancel", variant="soft", on_click=D.cancel_purchase),
                    wrap="wrap",
                ),
                rx.button("Review the purchase", on_click=D.review_purchase, id="buy-days-review"),
            ),
            width="100%",
        ),
        width="100%",
    )


def purchase_row(row: PaymentRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.created, white_space="nowrap"),
        rx.table.cell(rx.cond(row.days > 0, row.days.to_string() + " days", "")),
        rx.table.cell(row.amount_text, white_space="nowrap"),
        rx.table.cell(payment_badge(row.status), class_name="payment-status"),
        rx.table.cell(
            rx.cond(row.failure_code != "", rx.code(row.failure_code), ""),
            rx.text(row.help, size="1", color_scheme="gray"),
        ),
        rx.table.cell(finish_buttons(row, D.start_finish, D.authenticate, D.finishing)),
        class_name="purchase-row",
    )


def day_purchases() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Days bought", size="3"),
            error_callout(D.purchases_error),
            rx.cond(
                D.purchases.length() > 0,
                scroll_table(
                    table_header("When", "Days", "Paid", "Status", "Details", ""),
                    rx.table.body(rx.foreach(D.purchases, purchase_row)),
                    id="purchases-table",
                ),
                empty("No days bought through the platform's payments yet."),
            ),
            finish_form(
                D,
                purchases_state.PAY_ELEMENT_ID,
                D.confirm_finish,
                D.cancel_finish,
                "purchase-finish",
                "purchase-finish-notice",
            ),
            width="100%",
        ),
        width="100%",
    )
