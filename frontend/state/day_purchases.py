"""Days bought from the platform on the billing page: days x dayPrice shown before confirming,
``buyDays`` with an idempotency key, and the partner's purchases with their status."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import reflex as rx

from frontend import api, queries
from frontend.formatting import money, to_decimal
from frontend.forms import MAX_PURCHASE_DAYS, errors_by_control, key_for, new_key, whole_days
from frontend.state.auth import CUSTOMER
from frontend.state.billing import BillingState
from frontend.state.finish_payment import FinishPaymentState
from frontend.state.live_events import DAY_BALANCE_CHANGED, LIVE_EVENTS, StateTree
from frontend.state.models import PaymentRow

PURCHASES_SHOWN = 20
PAY_ELEMENT_ID = "purchase-card-element"  # the card Element that pays a PENDING purchase

WAITING = (
    "Purchase pending: the days are added as soon as the platform's payment provider confirms "
    "the payment."
)


class DayPurchasesState(FinishPaymentState, BillingState):
    buy_days_input: str = ""
    buy_errors: dict[str, str] = {}
    buy_reviewing: bool = False  # the cost is on screen, waiting for the confirmation
    buying: bool = False
    buy_notice: str = ""
    price: str = ""  # the partner's dayPrice, exact decimal string
    price_currency: str = ""
    _buy_key: str = ""
    _buy_sent_with: str = ""

    purchases: list[PaymentRow] = []
    purchases_total: int = 0
    purchases_error: str = ""

    # Paying a PENDING purchase in this browser (state/finish_payment.py; the platform's
    # intent, the platform's key): where and what.
    def _finish_element_id(self) -> str:
        return PAY_ELEMENT_ID

    def _finish_arrives(self) -> str:
        return "the days arrive"

    async def _refresh_finishable(self) -> None:
        await self.fetch_purchases()

    @rx.var
    def buy_cost_text(self) -> str:
        days = whole_days(self.buy_days_input)
        if days is None or not self.price:
            return ""
        total = to_decimal(self.price) * Decimal(days)
        return (
            f"{days} days x {money(self.price, self.price_currency)} = "
            f"{money(total, self.price_currency)}"
        )

    @rx.event
    async def load_purchases(self) -> None:
        if self.role == CUSTOMER or not self.partner_id:
            return
        self.buy_errors = {}
        self.buy_reviewing = False
        self.buy_notice = ""
        self._buy_key = new_key()
        self._buy_sent_with = ""
        self._reset_finish()
        await self.fetch_purchases()

    async def fetch_purchases(self) -> None:
        self.purchases_error = ""
        try:
            data = await api.graphql(
                self.api_key,
                queries.DAY_PURCHASES,
                {"partnerId": self.partner_id, "first": PURCHASES_SHOWN},
            )
        except api.ApiError as error:
            self.purchases_error = error.message
            return
        partner = data["partner"]
        self.price = partner["dayPrice"]["amount"]
        self.price_currency = partner["dayPrice"]["currencyCode"]
        connection = partner["dayPurchases"]
        nodes = [edge["node"] for edge in connection["edges"]]
        self.purchases = [
            PaymentRow.from_api(node, (node.get("dayEntry") or {}).get("days", 0)) for node in nodes
        ]
        self._remember_finishable(nodes, {p.id for p in self.purchases if p.finish})
        self.purchases_total = connection["totalCount"]

    @rx.event
    def set_buy_days(self, value: str) -> None:
        self.buy_days_input = value
        self.buy_errors = {}
        self.buy_reviewing = False

    @rx.event
    def review_purchase(self) -> None:
        if whole_days(self.buy_days_input) is None:
            self.buy_errors = {
                "days": f"Enter a whole number of days from 1 to {MAX_PURCHASE_DAYS:,}."
            }
            return
        self.buy_errors = {}
        self.buy_notice = ""
        self.buy_reviewing = True

    @rx.event
    def cancel_purchase(self) -> None:
        self.buy_reviewing = False

    @rx.event
    async def confirm_purchase(self) -> Any:
        days = whole_days(self.buy_days_input)
        if days is None:
            self.buy_errors = {
                "days": f"Enter a whole number of days from 1 to {MAX_PURCHASE_DAYS:,}."
            }
            return
        inputs = f"{self.partner_id}|{days}"
        self._buy_key = key_for(self._buy_key, self._buy_sent_with, inputs)
        self._buy_sent_with = inputs
        self.buying = True
        yield
        try:
            data = await api.graphql(
                self.api_key,
                queries.BUY_DAYS,
                {"partnerId": self.partner_id, "days": days, "key": self._buy_key},
            )
        except api.ApiError as error:
            self.buy_errors = {"form": error.message}
            return
        finally:
            self.buying = False
        payload = data["buyDays"]
        errors = api.user_errors(payload, default_field="form")
        if errors:
            self.buy_errors = errors_by_control(errors, ["days", "partnerId", "form"])
            return
        status = payload["payment"]["status"]
        self.buy_reviewing = False
        self.buy_days_input = ""
        self._buy_key = new_key()
        self._buy_sent_with = ""
        await self.fetch_purchases()
        if status == "SUCCEEDED":
            yield rx.toast.success(f"Bought {days} days.")
        elif status == "FAILED":
            code = payload["payment"].get("failureCode") or "declined"
            self.buy_errors = {"form": f"The payment was refused ({code}); no days were added."}
        else:
            self.buy_notice = WAITING


# ---- live: a purchase that lands (the platform's provider event) shows its new status ----


@LIVE_EVENTS.on(DAY_BALANCE_CHANGED)
async def _purchases_follow_day_entry(live: StateTree, data: dict[str, Any]) -> None:
    purchases = await live.get_state(DayPurchasesState)
    if purchases.purchases_total and data["entry"]["kind"] == "PURCHASE":
        await purchases.fetch_purchases()
        purchases.buy_notice = ""
