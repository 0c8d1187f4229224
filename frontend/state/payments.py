"""Cards and payments by card on the wallets page: add a card with Stripe.js, set the default,
remove one; top up by card; the wallet's payments with their status.

The card number goes from the provider's card Element straight to the provider (Stripe.js in
the browser, ``frontend/stripe_js.py``); this state only sees the SetupIntent's id, and then
the saved card as the API describes it (brand, last4, expiry).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from frontend import api, queries, stripe_js
from frontend.formatting import AMOUNT_HINT, money, parse_money_input
from frontend.forms import errors_by_control, key_for, new_key
from frontend.state.finish_payment import FinishPaymentState
from frontend.state.live_events import BALANCE_CHANGED, LIVE_EVENTS, StateTree
from frontend.state.models import CardRow, PaymentRow
from frontend.state.wallets import WalletsState

PAYMENTS_SHOWN = 20
DEFAULT_CARD = "default"  # the card select's value for "the default card"
PAY_ELEMENT_ID = "payment-card-element"  # the card Element that pays a PENDING payment

# What to do about a payment that did not succeed at once.
NEXT_STEP = {
    "PENDING": "Payment pending: the money is added when the provider confirms the payment.",
    "REQUIRES_ACTION": "The bank asks the card holder to authenticate this payment (3-D Secure); "
    "the money is added once they do.",
}


class PaymentsState(FinishPaymentState, WalletsState):
    cards: list[CardRow] = []
    cards_error: str = ""
    card_errors: dict[str, str] = {}
    adding_card: bool = False  # the card Element is on screen
    card_ready: bool = False
    saving_card: bool = False
    _setup_secret: str = ""

    pay_amount: str = ""
    pay_card: str = DEFAULT_CARD
    pay_errors: dict[str, str] = {}
    paying: bool = False
    pay_notice: str = ""
    _pay_key: str = ""
    _pay_sent_with: str = ""

    payments: list[PaymentRow] = []
    payments_total: int = 0
    payments_error: str = ""

    # Finishing a payment in this browser (state/finish_payment.py): where and what.
    def _finish_element_id(self) -> str:
        return PAY_ELEMENT_ID

    def _finish_arrives(self) -> str:
        return "the money arrives"

    async def _refresh_finishable(self) -> None:
        await self.fetch_payments()

    @rx.var
    def card_choices(self) -> list[list[str]]:
        choices = [[DEFAULT_CARD, "Default card"]]
        for card in self.cards:
            choices.append([card.id, f"{card.brand} •••• {card.last4} ({card.expiry})"])
        return choices

    def _reset_forms(self) -> None:
        self.card_errors = {}
        self.adding_card = self.card_ready = self.saving_card = False
        self._setup_secret = ""
        self.pay_amount = ""
        self.pay_card = DEFAULT_CARD
        self.pay_errors = {}
        self.pay_notice = ""
        self._pay_key = new_key()
        self._pay_sent_with = ""
        self._reset_finish()

    @rx.event
    async def load_payments(self) -> None:
        """The cards and payments of the wallet in view (after the wallets page chose one)."""
        self._reset_forms()
        self.cards, self.payments, self.payments_total = [], [], 0
        await self.fetch_cards()
        await self.fetch_payments()

    async def fetch_cards(self) -> None:
        customer_id = self.selected_customer
        if not customer_id:
            return
        self.cards_error = ""
        try:
            data = await api.graphql(self.api_key, queries.CARDS, {"customerId": customer_id})
        except api.ApiError as error:
            self.cards_error = error.message
            return
        self.cards = [CardRow.from_api(m) for m in data["customer"]["paymentMethods"]]

    async def fetch_payments(self) -> None:
        wallet_id = self.wallet.wallet_id
        if not wallet_id:
            return
        self.payments_error = ""
        try:
            data = await api.graphql(
                self.api_key,
                queries.WALLET_PAYMENTS,
                {"walletId": wallet_id, "first": PAYMENTS_SHOWN},
            )
        except api.ApiError as error:
            self.payments_error = error.message
            return
        connection = data["wallet"]["payments"]
        nodes = [edge["node"] for edge in connection["edges"]]
        self.payments = [PaymentRow.from_api(node) for node in nodes]
        self._remember_finishable(nodes, {p.id for p in self.payments if p.finish})
        self.payments_total = connection["totalCount"]

    # ---- adding a card ----------------------------------------------------

    @rx.event
    async def start_add_card(self) -> Any:
        self.card_errors = {}
        self.card_ready = False
        try:
            data = await api.graphql(
                self.api_key, queries.START_CARD_SETUP, {"customerId": self.selected_customer}
            )
        except api.ApiError as error:
            self.card_errors = {"form": error.message}
            return None
        payload = data["startCardSetup"]
        errors = api.user_errors(payload)
        if errors:
            self.card_errors = errors_by_control(errors, ["customerId"])
            return None
        setup = payload["setup"]
        self._setup_secret = setup["clientSecret"]
        self.adding_card = True
        return rx.call_script(
            stripe_js.mount_card_element(setup["stripeJsUrl"], setup["publishableKey"]),
            callback=PaymentsState.card_element_ready,
        )

    @rx.event
    def card_element_ready(self, result: dict[str, Any]) -> None:
        error = (result or {}).get("error") or ""
        if error:
            self.card_errors = {"card": error}
        self.card_ready = not error

    @rx.event
    def cancel_add_card(self) -> None:
        self.adding_card = self.card_ready = self.saving_card = False
        self._setup_secret = ""
        self.card_errors = {}

    @rx.event
    def save_card(self) -> Any:
        if not self._setup_secret or not self.card_ready:
            self.card_errors = {"card": "The card form is not ready yet."}
            return None
        self.card_errors = {}
        self.saving_card = True
        return rx.call_script(
            stripe_js.confirm_card_setup(self._setup_secret),
            callback=PaymentsState.card_confirmed,
        )

    @rx.event
    async def card_confirmed(self, result: dict[str, Any]) -> Any:
        result = result or {}
        if result.get("error") or not result.get("setupIntentId"):
            self.saving_card = False
            self.card_errors = {"card": result.get("error") or "The card was not confirmed."}
            return
        try:
            data = await api.graphql(
                self.api_key,
                queries.COMPLETE_CARD_SETUP,
                {"customerId": self.selected_customer, "setupIntentId": result["setupIntentId"]},
            )
        except api.ApiError as error:
            self.card_errors = {"form": error.message}
            return
        finally:
            self.saving_card = False
        payload = data["completeCardSetup"]
        errors = api.user_errors(payload, default_field="card")
        if errors:
            self.card_errors = errors_by_control(errors, ["card", "setupIntentId", "customerId"])
            return
        self.cards = [CardRow.from_api(m) for m in payload["paymentMethods"]]
        self.adding_card = self.card_ready = False
        self._setup_secret = ""
        yield rx.toast.success("Card saved as the default.")

    # ---- default and removal ---------------------------------------------

    async def _card_mutation(self, document: str, name: str, method_id: str) -> bool:
        self.cards_error = ""
        try:
            data = await api.graphql(
                self.api_key, document, {"customerId": self.selected_customer, "id": method_id}
            )
        except api.ApiError as error:
            self.cards_error = error.message
            return False
        payload = data[name]
        errors = api.user_errors(payload)
        if errors:
            self.cards_error = " ".join(e.message for e in errors)
            return False
        self.cards = [CardRow.from_api(m) for m in payload["paymentMethods"]]
        return True

    @rx.event
    async def set_default_card(self, method_id: str) -> None:
        await self._card_mutation(queries.SET_DEFAULT_CARD, "setDefaultPaymentMethod", method_id)

    @rx.event
    async def remove_card(self, method_id: str) -> None:
        if await self._card_mutation(queries.REMOVE_CARD, "removePaymentMethod", method_id):
            if self.pay_card == method_id:
                self.pay_card = DEFAULT_CARD

    # ---- top-up by card ---------------------------------------------------

    @rx.event
    def set_pay_amount(self, value: str) -> None:
        self.pay_amount = value
        self.pay_errors = {}

    @rx.event
    def set_pay_card(self, value: str) -> None:
        self.pay_card = value
        self.pay_errors = {}

    @rx.event
    async def pay_by_card(self) -> Any:
        amount = parse_money_input(self.pay_amount)
        if amount is None:
            self.pay_errors = {"amount": f"{AMOUNT_HINT}."}
            return
        method = None if self.pay_card == DEFAULT_CARD else self.pay_card
        inputs = f"{self.wallet.wallet_id}|{amount}|{method or ''}"
        self._pay_key = key_for(self._pay_key, self._pay_sent_with, inputs)
        self._pay_sent_with = inputs
        self.paying = True
        self.pay_notice = ""
        yield
        try:
            data = await api.graphql(
                self.api_key,
                queries.PAY_TOP_UP,
                {
                    "walletId": self.wallet.wallet_id,
                    "amount": amount,
                    "key": self._pay_key,
                    "method": method,
                },
            )
        except api.ApiError as error:
            self.pay_errors = {"form": error.message}
            return
        finally:
            self.paying = False
        payload = data["payTopUp"]
        errors = api.user_errors(payload, default_field="form")
        if errors:
            self.pay_errors = errors_by_control(
                errors, ["amount", "paymentMethodId", "walletId", "form"]
            )
            await self.fetch_payments()  # a refused payment is kept with its status
            return
        payment = payload["payment"]
        await self.fetch_payments()
        status = payment["status"]
        if status == "SUCCEEDED":
            self.pay_amount = ""
            self._pay_key = new_key()
            self._pay_sent_with = ""
            yield rx.toast.success(f"Paid {money(amount, self.wallet.currency)} by card.")
        elif status == "FAILED":
            code = payment.get("failureCode") or "declined"
            self.pay_errors = {"form": f"The card was declined ({code}); nothing was charged."}
            # The same inputs again are a new attempt, not a replay of the declined one.
            self._pay_key = new_key()
            self._pay_sent_with = ""
        else:
            self.pay_notice = NEXT_STEP.get(status, f"Payment {status.lower()}.")
            self._pay_key = new_key()
            self._pay_sent_with = ""


# ---- live: a payment that lands later (the provider's event) shows its new status ----


@LIVE_EVENTS.on(BALANCE_CHANGED)
async def _payments_follow_movement(live: StateTree, data: dict[str, Any]) -> None:
    payments = await live.get_state(PaymentsState)
    if payments.payments_total and data["wallet"]["id"] == payments.wallet.wallet_id:
        await payments.fetch_payments()
