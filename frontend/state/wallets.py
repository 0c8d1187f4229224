"""The wallets page: balances live, top-up, thresholds and auto-recharge, the ledger, spend chart."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import reflex as rx

from frontend import api, queries
from frontend.formatting import (
    AMOUNT_HINT,
    date_filter,
    money,
    parse_iso,
    parse_money_input,
    to_decimal,
)
from frontend.forms import errors_by_control, key_for, new_key
from frontend.state.live import LiveState
from frontend.state.live_events import BALANCE_CHANGED, LIVE_EVENTS, StateTree
from frontend.state.models import LedgerRow, WalletRow

LEDGER_PAGE = 25
CATEGORIES = [
    "MARKETING",
    "UTILITY",
    "AUTHENTICATION",
    "AUTHENTICATION_INTERNATIONAL",
    "SERVICE",
    "REFERRAL_CONVERSION",
    "MARKETING_LITE",
]
CATEGORY_COLOURS = {
    "MARKETING": "#e5484d",
    "UTILITY": "#3e63dd",
    "AUTHENTICATION": "#30a46c",
    "AUTHENTICATION_INTERNATIONAL": "#12a594",
    "SERVICE": "#f76b15",
    "REFERRAL_CONVERSION": "#8e4ec6",
    "MARKETING_LITE": "#d6409f",
}


def spend_by_day(conversations: list[dict[str, Any]], today: datetime) -> list[dict[str, Any]]:
    """30 rows, one per UTC day, with the spend per category summed exactly in Decimal.

    The chart library plots numbers, so each sum becomes a float at the very
    end, for plotting only; a plotted bar is never read back as money.
    """
    start = (today - timedelta(days=29)).date()
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for conversation in conversations:
        opened = parse_iso(conversation["openedAt"])
        if opened is None or opened.date() < start:
            continue
        sums[opened.strftime("%m-%d")][conversation["category"]] += to_decimal(
            conversation["price"]["amount"]
        )
    rows = []
    for n in range(30):
        label = (start + timedelta(days=n)).strftime("%m-%d")
        row: dict[str, Any] = {"day": label}
        for category in CATEGORIES:
            row[category] = float(sums[label][category])  # plotting only (see docstring)
        rows.append(row)
    return rows


class WalletsState(LiveState):
    selected_customer: str = ""

    ledger: list[LedgerRow] = []
    ledger_total: int = 0
    ledger_loading: bool = False
    ledger_error: str = ""
    ledger_kind: str = "ALL"
    ledger_since: str = ""
    ledger_until: str = ""
    ledger_cursors: list[str] = []  # the `after` of each page we went through
    ledger_has_next: bool = False
    _ledger_next: str = ""

    spend: list[dict[str, Any]] = []
    spend_categories: list[str] = []
    spend_total_text: str = ""
    spend_loading: bool = False

    topup_amount: str = ""
    topup_comment: str = ""
    topup_errors: dict[str, str] = {}
    topping_up: bool = False
    _topup_key: str = ""
    _topup_sent_with: str = ""  # the inputs _topup_key was last sent with

    threshold_input: str = ""
    credit_input: str = ""
    settings_errors: dict[str, str] = {}
    saving_settings: bool = False

    auto_enabled: bool = False
    auto_threshold: str = ""
    auto_amount: str = ""
    auto_cap: str = ""
    auto_errors: dict[str, str] = {}
    saving_auto: bool = False

    csv_error: str = ""

    @rx.var
    def wallet(self) -> WalletRow:
        for row in self.customers:
            if row.customer_id == self.selected_customer:
                return row
        return WalletRow()

    @rx.var
    def ledger_page_label(self) -> str:
        if not self.ledger_total:
            return "No entries"
        first = len(self.ledger_cursors) * LEDGER_PAGE + 1
        return f"{first}-{first + len(self.ledger) - 1} of {self.ledger_total}"

    def _fill_forms(self) -> None:
        row = self.wallet
        self.threshold_input = row.threshold
        self.credit_input = row.credit_limit
        self.auto_enabled = row.auto_enabled
        self.auto_threshold = row.auto_threshold
        self.auto_amount = row.auto_amount
        self.auto_cap = row.auto_cap
        self.topup_amount = self.topup_comment = ""
        self.topup_errors = self.settings_errors = self.auto_errors = {}
        self.csv_error = ""
        self._topup_key = new_key()
        self._topup_sent_with = ""

    @rx.event
    async def load(self) -> Any:
        ok, event = await self._open_page("wallets")
        if not ok or not self.customers:
            return event
        wanted = self.router.url.query_parameters.get("customer", "")
        ids = [c.customer_id for c in self.customers]
        if wanted in ids:
            self.selected_customer = wanted
        elif self.selected_customer not in ids:
            self.selected_customer = ids[0]
        self._fill_forms()
        return [WalletsState.reload_ledger, WalletsState.load_spend]

    @rx.event
    def choose(self, customer_id: str) -> Any:
        self.selected_customer = customer_id
        self._fill_forms()
        return [WalletsState.reload_ledger, WalletsState.load_spend]

    # ---- ledger -----------------------------------------------------------

    async def fetch_ledger(self, after: str | None) -> None:
        wallet_id = self.wallet.wallet_id
        if not wallet_id:
            return
        self.ledger_loading = True
        self.ledger_error = ""
        try:
            data = await api.graphql(
                self.api_key,
                queries.LEDGER,
                {
                    "walletId": wallet_id,
                    "first": LEDGER_PAGE,
                    "after": after,
                    "kind": None if self.ledger_kind == "ALL" else self.ledger_kind,
                    "since": date_filter(self.ledger_since),
                    "until": date_filter(self.ledger_until, end=True),
                },
            )
        except api.ApiError as error:
            self.ledger_error = error.message
            return
        finally:
            self.ledger_loading = False
        connection = data["wallet"]["entries"]
        currency = self.wallet.currency
        self.ledger = [LedgerRow.from_api(e["node"], currency) for e in connection["edges"]]
        self.ledger_total = connection["totalCount"]
        self.ledger_has_next = connection["pageInfo"]["hasNextPage"]
        self._ledger_next = connection["pageInfo"]["endCursor"] or ""

    @rx.event
    async def reload_ledger(self) -> None:
        self.ledger_cursors = []
        await self.fetch_ledger(None)

    @rx.event
    async def ledger_next_page(self) -> None:
        if self.ledger_has_next:
            self.ledger_cursors = [*self.ledger_cursors, self._ledger_next]
            await self.fetch_ledger(self._ledger_next)

    @rx.event
    async def ledger_prev_page(self) -> None:
        if self.ledger_cursors:
            self.ledger_cursors = self.ledger_cursors[:-1]
            await self.fetch_ledger(self.ledger_cursors[-1] if self.ledger_cursors else None)

    @rx.event
    async def set_ledger_kind(self, value: str) -> None:
        self.ledger_kind = value
        await self.reload_ledger()

    @rx.event
    async def set_ledger_since(self, value: str) -> None:
        self.ledger_since = value
        await self.reload_ledger()

    @rx.event
    async def set_ledger_until(self, value: str) -> None:
        self.ledger_until = value
        await self.reload_ledger()

    def on_balance_event(self, data: dict[str, Any]) -> None:
        """A committed movement of the wallet in view joins the top of its ledger at once."""
        if data["wallet"]["id"] != self.wallet.wallet_id:
            return
        row = WalletRow.from_api({"id": self.selected_customer, "name": ""}, data["wallet"])
        unfiltered = self.ledger_kind == "ALL" and not self.ledger_since and not self.ledger_until
        if unfiltered and not self.ledger_cursors:
            entry = LedgerRow.from_api(data["entry"], row.currency)
            if all(e.id != entry.id for e in self.ledger):
                self.ledger = [entry, *self.ledger][:LEDGER_PAGE]
                self.ledger_total += 1

    @rx.event
    async def download_csv(self) -> Any:
        self.csv_error = ""
        params = {}
        if self.ledger_kind != "ALL":
            params["kind"] = self.ledger_kind
        if since := date_filter(self.ledger_since):
            params["since"] = since
        if until := date_filter(self.ledger_until, end=True):
            params["until"] = until
        wallet_id = self.wallet.wallet_id
        try:
            body = await api.download(self.api_key, f"/wallets/{wallet_id}/entries.csv", params)
        except api.ApiError as error:
            self.csv_error = error.message
            return None
        return rx.download(
            data=body, filename=f"wallet-{wallet_id}-entries.csv", mime_type="text/csv"
        )

    # ---- spend chart ------------------------------------------------------

    @rx.event
    async def load_spend(self) -> None:
        customer_id = self.selected_customer
        if not customer_id:
            return
        self.spend_loading = True
        today = datetime.now(UTC)
        since = (today - timedelta(days=29)).replace(hour=0, minute=0, second=0, microsecond=0)
        found: list[dict[str, Any]] = []
        after = None
        try:
            # Bounded: at most 25 pages (5,000 conversations) drawn per wallet.
            for _ in range(25):
                data = await api.graphql(
                    self.api_key,
                    queries.SPEND,
                    {"customerId": customer_id, "since": since.isoformat(), "after": after},
                )
                connection = data["conversations"]
                found.extend(edge["node"] for edge in connection["edges"])
                if not connection["pageInfo"]["hasNextPage"]:
                    break
                after = connection["pageInfo"]["endCursor"]
        except api.ApiError:
            found = []
        finally:
            self.spend_loading = False
        self.spend = spend_by_day(found, today)
        used = {c["category"] for c in found}
        self.spend_categories = [c for c in CATEGORIES if c in used]
        total = sum((to_decimal(c["price"]["amount"]) for c in found), Decimal(0))
        self.spend_total_text = money(total, self.wallet.currency)

    # ---- top-up -----------------------------------------------------------

    @rx.event
    def set_topup_amount(self, value: str) -> None:
        self.topup_amount = value
        self.topup_errors = {}

    @rx.event
    def set_topup_comment(self, value: str) -> None:
        self.topup_comment = value

    def _apply_wallet(self, wallet: dict[str, Any]) -> None:
        for i, row in enumerate(self.customers):
            if row.wallet_id == wallet["id"]:
                customer = {
                    "id": row.customer_id,
                    "name": row.customer_name,
                    "suspended": row.suspended,
                }
                self.customers[i] = WalletRow.from_api(customer, wallet)
        self._recount()

    @rx.event
    async def confirm_topup(self) -> Any:
        amount = parse_money_input(self.topup_amount)
        if amount is None:
            self.topup_errors = {"amount": f"{AMOUNT_HINT}."}
            return
        comment = self.topup_comment.strip() or None
        # A retry of the same top-up replays; changed inputs after a failure get a new key.
        inputs = f"{self.wallet.wallet_id}|{amount}|{comment or ''}"
        self._topup_key = key_for(self._topup_key, self._topup_sent_with, inputs)
        self._topup_sent_with = inputs
        self.topping_up = True
        yield
        try:
            data = await api.graphql(
                self.api_key,
                queries.TOP_UP,
                {
                    "walletId": self.wallet.wallet_id,
                    "amount": amount,
                    "comment": comment,
                    "key": self._topup_key,
                },
            )
        except api.ApiError as error:
            self.topup_errors = {"form": error.message}
            return
        finally:
            self.topping_up = False
        payload = data["topUpWallet"]
        errors = api.user_errors(payload, default_field="amount")
        if errors:
            self.topup_errors = errors_by_control(errors, ["amount", "comment", "walletId"])
            return
        self._apply_wallet(payload["wallet"])
        self.topup_amount = self.topup_comment = ""
        self._topup_key = new_key()
        self._topup_sent_with = ""
        yield rx.toast.success(f"Added {money(amount, self.wallet.currency)}.")

    # ---- thresholds and credit limit -------------------------------------

    @rx.event
    def set_threshold_input(self, value: str) -> None:
        self.threshold_input = value
        self.settings_errors = {}

    @rx.event
    def set_credit_input(self, value: str) -> None:
        self.credit_input = value
        self.settings_errors = {}

    @rx.event
    async def save_settings(self) -> Any:
        threshold = parse_money_input(self.threshold_input)
        if self.threshold_input.strip() and threshold is None:
            self.settings_errors = {"threshold": f"{AMOUNT_HINT}, or leave it empty for no alert."}
            return
        credit = parse_money_input(self.credit_input)
        if credit is None and not self.is_customer:
            self.settings_errors = {"creditLimit": f"{AMOUNT_HINT}, or 0 for no credit."}
            return
        self.saving_settings = True
        yield
        # Two mutations: whichever succeeded is shown, even if the other is refused.
        saved: dict[str, Any] | None = None
        errors: Any = None
        try:
            wallet_id = self.wallet.wallet_id
            data = await api.graphql(
                self.api_key, queries.SET_THRESHOLD, {"walletId": wallet_id, "threshold": threshold}
            )
            payload = data["setLowBalanceThreshold"]
            errors = api.user_errors(payload, default_field="threshold")
            if not errors:
                saved = payload["wallet"]
            # Compared as numbers: "500" and "500.00" are the same limit.
            changed = to_decimal(credit) != to_decimal(self.wallet.credit_limit)
            if not errors and not self.is_customer and changed:
                data = await api.graphql(
                    self.api_key,
                    queries.SET_CREDIT_LIMIT,
                    {"walletId": wallet_id, "creditLimit": credit},
                )
                payload = data["setCreditLimit"]
                errors = api.user_errors(payload, default_field="creditLimit")
                if not errors:
                    saved = payload["wallet"]
        except api.ApiError as error:
            self.settings_errors = {"form": error.message}
            return
        finally:
            self.saving_settings = False
            if saved is not None:
                self._apply_wallet(saved)
        if errors:
            self.settings_errors = errors_by_control(
                errors, ["threshold", "creditLimit", "walletId"]
            )
            return
        yield rx.toast.success("Wallet settings saved.")

    # ---- auto-recharge ----------------------------------------------------

    @rx.event
    def set_auto_enabled(self, value: bool) -> None:
        self.auto_enabled = value
        self.auto_errors = {}

    @rx.event
    def set_auto_threshold(self, value: str) -> None:
        self.auto_threshold = value
        self.auto_errors = {}

    @rx.event
    def set_auto_amount(self, value: str) -> None:
        self.auto_amount = value
        self.auto_errors = {}

    @rx.event
    def set_auto_cap(self, value: str) -> None:
        self.auto_cap = value
        self.auto_errors = {}

    @rx.event
    async def save_auto(self) -> Any:
        values = {
            "threshold": parse_money_input(self.auto_threshold),
            "amount": parse_money_input(self.auto_amount),
            "dailyCap": parse_money_input(self.auto_cap),
        }
        missing = {k: f"{AMOUNT_HINT}." for k, v in values.items() if v is None}
        if missing:
            self.auto_errors = missing
            return
        self.saving_auto = True
        yield
        try:
            data = await api.graphql(
                self.api_key,
                queries.CONFIGURE_AUTO_RECHARGE,
                {
                    "walletId": self.wallet.wallet_id,
                    "input": {"enabled": self.auto_enabled, **values},
                },
            )
        except api.ApiError as error:
            self.auto_errors = {"form": error.message}
            return
        finally:
            self.saving_auto = False
        payload = data["configureAutoRecharge"]
        errors = api.user_errors(payload)
        if errors:
            self.auto_errors = errors_by_control(
                errors, ["threshold", "amount", "dailyCap", "input"]
            )
            return
        self._apply_wallet(payload["wallet"])
        yield rx.toast.success("Auto-recharge saved.")


# ---- live: the ledger in view follows its wallet's movements and every fresh snapshot ----


@LIVE_EVENTS.on(BALANCE_CHANGED)
async def _ledger_follows_movement(live: StateTree, data: dict[str, Any]) -> None:
    (await live.get_state(WalletsState)).on_balance_event(data)


@LIVE_EVENTS.on_resync
async def _ledger_follows_snapshot(live: StateTree) -> None:
    wallets = await live.get_state(WalletsState)
    if wallets.selected_customer:
        wallets.ledger_cursors = []
        await wallets.fetch_ledger(None)
