"""Finishing a payment in this browser, for any list of payments the dashboard shows.

A PENDING payment is paid with a card ("Pay with a card": the card Element, with the
publishable key of the account that made the PaymentIntent, then ``confirmCardPayment``);
a REQUIRES_ACTION one is authenticated ("Authenticate": the bank's 3-D Secure step). The
money, or the days, arrive with the provider's event, as for every payment; this state only
hands the client secret to Stripe.js and re-reads its list.

A mixin: the wallet's card payments (``state/payments.py``) and the partner's day purchases
(``state/day_purchases.py``) each say where their card Element goes, what arrives, and how
their list is re-read.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from frontend import stripe_js
from frontend.state.models import finish_details


class FinishPaymentState(rx.State, mixin=True):
    finish_id: str = ""  # the PENDING payment whose card form is open
    finish_ready: bool = False
    finishing: bool = False
    finish_errors: dict[str, str] = {}
    finish_notice: str = ""
    _finish: dict[str, dict[str, str]] = {}  # payment id -> what Stripe.js needs

    # ---- what each list says ------------------------------------------------

    def _finish_element_id(self) -> str:
        """The id of the element the card form is mounted in."""
        raise NotImplementedError

    def _finish_arrives(self) -> str:
        """What the payment brings, for the notices: "the money arrives", "the days arrive"."""
        raise NotImplementedError

    async def _refresh_finishable(self) -> None:
        """Re-read the list (its rows and, through ``_remember_finishable``, what Stripe.js needs)."""
        raise NotImplementedError

    # ---- shared ---------------------------------------------------------------

    def _reset_finish(self) -> None:
        self.finish_id = ""
        self.finish_ready = self.finishing = False
        self.finish_errors = {}
        self.finish_notice = ""

    def _remember_finishable(self, nodes: list[dict[str, Any]], finishable: set[str]) -> None:
        """What Stripe.js needs per payment, from the API's nodes; a form whose payment was
        paid or is gone meanwhile closes."""
        self._finish = {node["id"]: finish_details(node) for node in nodes}
        if self.finish_id and self.finish_id not in finishable:
            self.finish_id = ""

    def _unfinished(self, payment_id: str, action: str) -> dict[str, str] | None:
        details = self._finish.get(payment_id) or {}
        self.finish_errors = {}
        self.finish_notice = ""
        if not details.get("client_secret"):
            self.finish_errors = {"form": f"This payment cannot be {action} here."}
            return None
        return details

    @rx.event
    def start_finish(self, payment_id: str) -> Any:
        """ "Pay with a card": the card Element, from the key of the account that made the intent."""
        self.finish_ready = False
        details = self._unfinished(payment_id, "paid")
        if details is None:
            return None
        self.finish_id = payment_id
        return rx.call_script(
            stripe_js.mount_card_element(
                details["stripe_js_url"], details["publishable_key"], self._finish_element_id()
            ),
            callback=type(self).finish_element_ready,
        )

    @rx.event
    def finish_element_ready(self, result: dict[str, Any]) -> None:
        error = (result or {}).get("error") or ""
        if error:
            self.finish_errors = {"card": error}
        self.finish_ready = not error

    @rx.event
    def cancel_finish(self) -> None:
        self.finish_id = ""
        self.finish_ready = self.finishing = False
        self.finish_errors = {}

    @rx.event
    def confirm_finish(self) -> Any:
        details = self._finish.get(self.finish_id) or {}
        if not details.get("client_secret") or not self.finish_ready:
            self.finish_errors = {"card": "The card form is not ready yet."}
            return None
        self.finish_errors = {}
        self.finishing = True
        return rx.call_script(
            stripe_js.confirm_card_payment(details["client_secret"]),
            callback=type(self).finish_sent,
        )

    @rx.event
    async def finish_sent(self, result: dict[str, Any]) -> None:
        self.finishing = False
        error = (result or {}).get("error") or ""
        if error:
            self.finish_errors = {"card": error}
            return
        self.finish_id = ""
        self.finish_ready = False
        self.finish_notice = (
            f"Payment sent; {self._finish_arrives()} when the provider confirms it."
        )
        await self._refresh_finishable()

    @rx.event
    def authenticate(self, payment_id: str) -> Any:
        """ "Authenticate": the bank's 3-D Secure step, ``confirmCardPayment(clientSecret)``."""
        details = self._unfinished(payment_id, "authenticated")
        if details is None:
            return None
        self.finishing = True
        return rx.call_script(
            stripe_js.authenticate_payment(
                details["stripe_js_url"], details["publishable_key"], details["client_secret"]
            ),
            callback=type(self).authenticated,
        )

    @rx.event
    async def authenticated(self, result: dict[str, Any]) -> None:
        self.finishing = False
        error = (result or {}).get("error") or ""
        if error:
            self.finish_errors = {"form": f"Authentication failed: {error}"}
        else:
            self.finish_notice = (
                f"Authentication done; {self._finish_arrives()} when the provider confirms "
                "the payment."
            )
        await self._refresh_finishable()
