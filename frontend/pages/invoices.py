"""Invoices: list with status; PDF; finalise, pay from wallet, mark paid, void — by role."""

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
    status_badge,
)
from frontend.components.layout import page
from frontend.state.invoices import InvoicesState
from frontend.state.models import InvoiceRow

S = InvoicesState

STATUS_OPTIONS = [
    ("ALL", "Every status"),
    ("DRAFT", "Draft"),
    ("OPEN", "Open"),
    ("PAID", "Paid"),
    ("VOID", "Void"),
]


def actions(invoice: InvoiceRow) -> rx.Component:
    busy = S.busy_id == invoice.id
    manage = S.manages_partner
    return rx.vstack(
        rx.hstack(
            rx.button(
                "PDF",
                size="1",
                variant="soft",
                on_click=S.open_pdf(invoice.id),
                id=f"pdf-{invoice.id}",
            ),
            rx.cond(
                manage & (invoice.status == "DRAFT"),
                rx.button(
                    "Finalise",
                    size="1",
                    on_click=S.finalize(invoice.id),
                    loading=busy,
                    id=f"finalize-{invoice.id}",
                ),
                rx.fragment(),
            ),
            rx.cond(
                invoice.status == "OPEN",
                rx.button(
                    "Pay from wallet",
                    size="1",
                    on_click=S.pay(invoice.id),
                    loading=busy,
                    id=f"pay-{invoice.id}",
                ),
                rx.fragment(),
            ),
            rx.cond(
                manage & (invoice.status == "OPEN"),
                rx.button(
                    "Mark paid",
                    size="1",
                    variant="soft",
                    on_click=S.open_comment("mark_paid", invoice.id),
                    id=f"mark-{invoice.id}",
                ),
                rx.fragment(),
            ),
            rx.cond(
                manage & ((invoice.status == "OPEN") | (invoice.status == "DRAFT")),
                rx.button(
                    "Void",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=S.open_comment("void", invoice.id),
                    id=f"void-{invoice.id}",
                ),
                rx.fragment(),
            ),
            spacing="1",
            wrap="wrap",
        ),
        rx.cond(
            S.row_errors.contains(invoice.id),
            rx.text(
                S.row_errors[invoice.id].to(str),
                color_scheme="red",
                size="1",
                role="alert",
                class_name="field-error",
                id=f"invoice-error-{invoice.id}",
            ),
            rx.fragment(),
        ),
        spacing="1",
    )


def invoice_row(invoice: InvoiceRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(invoice.number, white_space="nowrap"),
        rx.table.cell(invoice.customer_name),
        rx.table.cell(invoice.period),
        rx.table.cell(status_badge(invoice.status), id=f"invoice-status-{invoice.id}"),
        rx.table.cell(invoice.total_text, white_space="nowrap"),
        rx.table.cell(invoice.issued, white_space="nowrap"),
        rx.table.cell(invoice.due, white_space="nowrap"),
        rx.table.cell(invoice.paid, white_space="nowrap"),
        rx.table.cell(actions(invoice)),
        class_name="invoice-row",
    )


def comment_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(S.comment_title),
            rx.vstack(
                labelled(
                    "Comment (kept with the invoice)",
                    rx.input(
                        value=S.comment_text, on_change=S.set_comment_text, id="invoice-comment"
                    ),
                    S.comment_errors,
                    "comment",
                ),
                field_error(S.comment_errors, "form"),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Confirm", on_click=S.confirm_comment, id="invoice-comment-confirm"),
                    justify="end",
                    width="100%",
                ),
                width="100%",
            ),
            max_width="460px",
        ),
        open=S.comment_open,
        on_open_change=S.set_comment_open,
    )


def generate_bar() -> rx.Component:
    return rx.cond(
        S.manages_partner,
        rx.vstack(
            rx.hstack(
                rx.input(
                    value=S.generate_period,
                    on_change=S.set_generate_period,
                    placeholder="YYYY-MM",
                    width="120px",
                    id="generate-period",
                ),
                rx.button(
                    "Generate drafts",
                    on_click=S.generate,
                    loading=S.generating,
                    variant="soft",
                    id="generate",
                ),
            ),
            field_error(S.generate_errors, "period"),
            field_error(S.generate_errors, "form"),
            spacing="1",
        ),
        rx.fragment(),
    )


def invoices() -> rx.Component:
    return page(
        "Invoices",
        rx.flex(
            option_select(
                STATUS_OPTIONS, S.status_filter, S.set_status_filter, id="invoice-status"
            ),
            rx.spacer(),
            generate_bar(),
            gap="2",
            wrap="wrap",
            width="100%",
        ),
        error_callout(S.invoices_error),
        rx.cond(
            S.invoices_loading & (S.invoices.length() == 0),
            loading("Loading invoices…"),
            rx.cond(
                S.invoices.length() > 0,
                scroll_table(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(h)
                                for h in (
                                    "Number",
                                    "Customer",
                                    "Period",
                                    "Status",
                                    "Total",
                                    "Issued",
                                    "Due",
                                    "Paid",
                                    "",
                                )
                            ]
                        )
                    ),
                    rx.table.body(rx.foreach(S.invoices, invoice_row)),
                    id="invoices-table",
                ),
                empty("No invoices yet."),
            ),
        ),
        comment_dialog(),
    )
