"""Invoices: the list with status, the PDF, and the actions each role may take."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import reflex as rx

from frontend import api, queries
from frontend.forms import errors_by_control, new_key
from frontend.state.auth import CUSTOMER
from frontend.state.live import LiveState
from frontend.state.models import InvoiceRow

ACTIONS = {
    "finalize": (queries.FINALIZE_INVOICE, "finalizeInvoice", "Invoice finalised"),
    "pay": (queries.PAY_INVOICE, "payInvoiceFromWallet", "Invoice paid from the wallet"),
    "mark_paid": (queries.MARK_INVOICE_PAID, "markInvoicePaid", "Invoice marked paid"),
    "void": (queries.VOID_INVOICE, "voidInvoice", "Invoice voided"),
}


def previous_month(now: datetime) -> str:
    year, month = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
    return f"{year:04d}-{month:02d}"


class InvoicesState(LiveState):
    invoices: list[InvoiceRow] = []
    invoices_loading: bool = False
    invoices_error: str = ""
    status_filter: str = "ALL"
    row_errors: dict[str, str] = {}
    busy_id: str = ""
    # One idempotency key per invoice paid from the wallet, kept for the row: a failed
    # payment records nothing, and a double click or a retry after success replays the
    # payment (same answer) instead of being refused as "not open".
    _pay_keys: dict[str, str] = {}

    generate_period: str = ""
    generate_errors: dict[str, str] = {}
    generating: bool = False

    # mark paid / void need a comment
    comment_open: bool = False
    comment_action: str = ""
    comment_invoice: str = ""
    comment_number: str = ""
    comment_text: str = ""
    comment_errors: dict[str, str] = {}

    @rx.var
    def comment_title(self) -> str:
        verb = "Mark paid" if self.comment_action == "mark_paid" else "Void"
        return f"{verb}: invoice {self.comment_number}"

    async def _fetch(self) -> None:
        self.invoices_loading = True
        self.invoices_error = ""
        status = None if self.status_filter == "ALL" else self.status_filter
        found: list[dict[str, Any]] = []
        try:
            if self.role == CUSTOMER:
                after = None
                while True:
                    data = await api.graphql(
                        self.api_key,
                        queries.CUSTOMER_INVOICES,
                        {"customerId": self.customer_id, "status": status, "after": after},
                    )
                    connection = data["customer"]["invoices"]
                    found.extend(edge["node"] for edge in connection["edges"])
                    if not connection["pageInfo"]["hasNextPage"]:
                        break
                    after = connection["pageInfo"]["endCursor"]
            else:
                after = None
                while True:
                    data = await api.graphql(
                        self.api_key,
                        queries.PARTNER_INVOICES,
                        {"partnerId": self.partner_id, "status": status, "after": after},
                    )
                    connection = data["partner"]["invoices"]
                    found.extend(edge["node"] for edge in connection["edges"])
                    if not connection["pageInfo"]["hasNextPage"]:
                        break
                    after = connection["pageInfo"]["endCursor"]
        except api.ApiError as error:
            self.invoices_error = error.message
            return
        finally:
            self.invoices_loading = False
        found.sort(key=lambda i: (i["period"], i.get("number") or ""), reverse=True)
        self.invoices = [InvoiceRow.from_api(i) for i in found]

    @rx.event
    async def load(self) -> Any:
        ok, event = await self._open_page("invoices")
        if ok:
            if not self.generate_period:
                self.generate_period = previous_month(datetime.now(UTC))
            self.row_errors = {}
            await self._fetch()
        return event

    @rx.event
    async def set_status_filter(self, value: str) -> None:
        self.status_filter = value
        await self._fetch()

    @rx.event
    def set_generate_period(self, value: str) -> None:
        self.generate_period = value
        self.generate_errors = {}

    @rx.event
    async def generate(self) -> Any:
        self.generating = True
        yield
        try:
            data = await api.graphql(
                self.api_key, queries.GENERATE_INVOICES, {"period": self.generate_period.strip()}
            )
        except api.ApiError as error:
            self.generate_errors = {"period": error.message}
            return
        finally:
            self.generating = False
        payload = data["generateInvoices"]
        errors = api.user_errors(payload, default_field="period")
        if errors:
            self.generate_errors = errors_by_control(errors, ["period"])
            return
        self.generate_errors = {}
        await self._fetch()
        yield rx.toast.success(f"{len(payload['invoices'])} invoice(s) for {self.generate_period}.")

    async def _act(self, action: str, invoice_id: str, comment: str | None = None) -> bool:
        document, field, _ = ACTIONS[action]
        variables: dict[str, Any] = {"id": invoice_id}
        if action == "pay":
            if invoice_id not in self._pay_keys:
                self._pay_keys[invoice_id] = new_key("dashboard-pay")
            variables["key"] = self._pay_keys[invoice_id]
        if comment is not None:
            variables["comment"] = comment
        self.busy_id = invoice_id
        self.row_errors = {k: v for k, v in self.row_errors.items() if k != invoice_id}
        try:
            data = await api.graphql(self.api_key, document, variables)
        except api.ApiError as error:
            self.row_errors = {**self.row_errors, invoice_id: error.message}
            return False
        finally:
            self.busy_id = ""
        payload = data[field]
        errors = api.user_errors(payload)
        if errors:
            if comment is not None:
                self.comment_errors = errors_by_control(errors, ["comment"])
            else:
                message = " ".join(e.message for e in errors)
                self.row_errors = {**self.row_errors, invoice_id: message}
            return False
        updated = InvoiceRow.from_api(payload["invoice"])
        self.invoices = [updated if i.id == updated.id else i for i in self.invoices]
        return True

    @rx.event
    async def finalize(self, invoice_id: str) -> Any:
        if await self._act("finalize", invoice_id):
            yield rx.toast.success("Invoice finalised: it is now open and numbered.")

    @rx.event
    async def pay(self, invoice_id: str) -> Any:
        if await self._act("pay", invoice_id):
            yield rx.toast.success("Paid from the wallet.")

    @rx.event
    def open_comment(self, action: str, invoice_id: str) -> None:
        number = [i.number for i in self.invoices if i.id == invoice_id]
        self.comment_action = action
        self.comment_invoice = invoice_id
        self.comment_number = number[0] if number else invoice_id
        self.comment_text = ""
        self.comment_errors = {}
        self.comment_open = True

    @rx.event
    def set_comment_open(self, value: bool) -> None:
        self.comment_open = value

    @rx.event
    def set_comment_text(self, value: str) -> None:
        self.comment_text = value
        self.comment_errors = {}

    @rx.event
    async def confirm_comment(self) -> Any:
        if await self._act(self.comment_action, self.comment_invoice, self.comment_text):
            self.comment_open = False
            yield rx.toast.success(ACTIONS[self.comment_action][2] + ".")

    @rx.event
    async def open_pdf(self, invoice_id: str) -> Any:
        try:
            body = await api.download(self.api_key, f"/invoices/{invoice_id}.pdf")
        except api.ApiError as error:
            self.row_errors = {**self.row_errors, invoice_id: error.message}
            return None
        number = [i.number for i in self.invoices if i.id == invoice_id]
        name = (number[0] if number else invoice_id).replace("/", "-")
        return rx.download(data=body, filename=f"invoice-{name}.pdf", mime_type="application/pdf")
