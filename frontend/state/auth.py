"""Sign-in with an API key, the viewer's role, and which pages that role may reach.

The key lives in the browser's sessionStorage (gone when the tab closes, and
cleared by sign-out); every other state is a substate of ``AuthState`` so each
handler can call the API with ``self.api_key``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from frontend import api, queries
from frontend.state.live_tabs import stop_live

ADMIN, PARTNER, CUSTOMER = "ADMIN", "PARTNER", "CUSTOMER"
# Pages a CUSTOMER key must never reach: the reseller's own business.
PARTNER_ONLY_PAGES = {"billing"}


@dataclass
class PartnerOption:
    id: str
    name: str


class AuthState(rx.State):
    api_key: str = rx.SessionStorage("", name="daybook_api_key")
    # The partner an ADMIN is looking at; kept per tab like the key.
    admin_partner_id: str = rx.SessionStorage("", name="daybook_admin_partner")

    role: str = ""
    partner_id: str = ""
    partner_name: str = ""
    currency: str = ""
    customer_id: str = ""
    customer_name: str = ""
    wallet_id: str = ""
    partners: list[PartnerOption] = []

    sign_in_error: str = ""
    signing_in: bool = False
    notice: str = ""

    @rx.var
    def signed_in(self) -> bool:
        return bool(self.role)

    @rx.var
    def is_customer(self) -> bool:
        return self.role == CUSTOMER

    @rx.var
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @rx.var
    def manages_partner(self) -> bool:
        """ADMIN or PARTNER with a partner in view: may allocate days and move money."""
        return self.role in (ADMIN, PARTNER) and bool(self.partner_id)

    @rx.var
    def needs_partner_choice(self) -> bool:
        return self.role == ADMIN and not self.partner_id

    def _apply_viewer(self, viewer: dict[str, Any]) -> None:
        self.role = viewer["role"]
        partner = viewer.get("partner")
        customer = viewer.get("customer")
        self.customer_id = self.customer_name = self.wallet_id = ""
        if customer:
            self.customer_id = customer["id"]
            self.customer_name = customer["name"]
            self.wallet_id = customer["wallet"]["id"]
            partner = partner or customer["partner"]
        if self.role == ADMIN:
            self.partner_id = self.admin_partner_id
            chosen = [p for p in self.partners if p.id == self.partner_id]
            self.partner_name = chosen[0].name if chosen else ""
        elif partner:
            self.partner_id = partner["id"]
            self.partner_name = partner["name"]
            self.currency = partner.get("currencyCode") or ""

    async def _load_partners(self) -> None:
        data = await api.graphql(self.api_key, queries.PARTNERS, {"first": 200})
        self.partners = [PartnerOption(id=p["id"], name=p["name"]) for p in data["partners"]]

    @rx.event
    async def sign_in(self, form_data: dict[str, Any]) -> Any:
        # Read from the submitted form, never bound to state while it is typed.
        key = str(form_data.get("api_key") or "").strip()
        if not key:
            self.sign_in_error = "Enter your API key."
            return
        self.signing_in = True
        yield
        try:
            data = await api.graphql(key, queries.VIEWER)
            self.api_key = key
            if data["viewer"]["role"] == ADMIN:
                await self._load_partners()
            self._apply_viewer(data["viewer"])
        except api.Unauthorized:
            self.sign_in_error = "That key is not valid: it is unknown or has been revoked."
            return
        except api.ApiError as error:
            self.sign_in_error = error.message
            return
        finally:
            self.signing_in = False
        self.sign_in_error = ""
        yield rx.redirect("/")

    @rx.event
    def sign_out(self) -> Any:
        """Forget the key (sessionStorage too) and everything loaded with it."""
        stop_live(self.router.session.client_token)
        # Resetting the root resets every page's substate: nothing of the old key survives.
        self.reset()
        self.api_key = ""
        self.admin_partner_id = ""
        return rx.redirect("/signin")

    async def ensure_viewer(self, page: str) -> str | None:
        """Load who the key belongs to; return a path to redirect to, or None to stay."""
        if not self.api_key:
            return "/signin"
        if not self.role:
            try:
                data = await api.graphql(self.api_key, queries.VIEWER)
                if data["viewer"]["role"] == ADMIN:
                    await self._load_partners()
                self._apply_viewer(data["viewer"])
            except api.Unauthorized:
                self.reset()
                self.api_key = ""
                return "/signin"
            except api.ApiError as error:
                self.notice = error.message
                return None
        if page in PARTNER_ONLY_PAGES and self.role == CUSTOMER:
            self.notice = "That page is for partners; a customer key sees its own wallet, channels and invoices."
            return "/"
        return None

    @rx.event
    def dismiss_notice(self) -> None:
        self.notice = ""

    def _select_partner(self, partner_id: str) -> None:
        """ADMIN: remember the partner to look at (per tab, like the key).

        The event that calls this, ``LiveState.choose_partner``, also restarts the
        live task for that partner: the live state owns the task.
        """
        self.admin_partner_id = partner_id
        self.partner_id = partner_id
        chosen = [p for p in self.partners if p.id == partner_id]
        self.partner_name = chosen[0].name if chosen else ""
