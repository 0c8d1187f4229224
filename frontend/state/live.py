"""What every page shares: the partner's day balance, the customers' wallets, the channels and
the alerts, loaded once per tab and kept current by subscriptions.

One background task per browser tab holds one graphql-transport-ws connection
with every subscription the role may open, and writes each event into state
inside ``async with self`` so the page changes without a reload. Page states
are substates of ``LiveState``, so they read the same live numbers; what they
do with an event or a resync of their own, they register in ``live_events``,
so this module imports neither them nor the app (no import cycle).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import reflex as rx

from frontend import api, queries
from frontend.formatting import money, plural, to_decimal
from frontend.state import live_tabs
from frontend.state.auth import ADMIN, CUSTOMER, AuthState
from frontend.state.live_events import (
    ALERTS,
    BALANCE_CHANGED,
    CHANNEL_CHANGED,
    DAY_BALANCE_CHANGED,
    LIVE_EVENTS,
)
from frontend.state.models import AlertRow, ChannelRow, Option, WalletRow

log = logging.getLogger("daybook.dashboard")

EXPIRING_WITHIN_DAYS = 7
MAX_ALERTS = 20
PAGE = 200  # the API's largest page


async def _all_pages(
    key: str, query: str, variables: dict[str, Any], path: tuple[str, ...]
) -> AsyncIterator[dict[str, Any]]:
    """Every node of a connection, following cursors 200 at a time."""
    after = None
    while True:
        data = await api.graphql(key, query, {**variables, "first": PAGE, "after": after})
        for part in path:
            data = data[part]
            if data is None:
                return
        for edge in data["edges"]:
            yield edge["node"]
        if not data["pageInfo"]["hasNextPage"]:
            return
        after = data["pageInfo"]["endCursor"]


async def fetch_core(key: str, role: str, partner_id: str, customer_id: str) -> dict[str, Any]:
    """Everything the overview needs, fetched concurrently."""

    async def summary() -> dict[str, Any] | None:
        if role == CUSTOMER:
            return None
        data = await api.graphql(key, queries.PARTNER_SUMMARY, {"id": partner_id})
        return data["partner"]

    async def customers() -> list[dict[str, Any]]:
        if role == CUSTOMER:
            data = await api.graphql(key, queries.OWN_CUSTOMER, {"id": customer_id})
            return [data["customer"]]
        nodes = _all_pages(
            key, queries.CUSTOMERS, {"partnerId": partner_id}, ("partner", "customers")
        )
        return [node async for node in nodes]

    async def channels() -> list[dict[str, Any]]:
        if role == CUSTOMER:
            nodes = _all_pages(
                key,
                queries.CUSTOMER_CHANNELS,
                {"customerId": customer_id},
                ("customer", "channels"),
            )
        else:
            nodes = _all_pages(
                key, queries.PARTNER_CHANNELS, {"partnerId": partner_id}, ("partner", "channels")
            )
        return [node async for node in nodes]

    async def alerts() -> list[dict[str, Any]]:
        if role == ADMIN:
            # An ADMIN's alerts are every partner's: ask for the chosen partner's only.
            data = await api.graphql(key, queries.ALERTS, {"first": 100, "partnerId": partner_id})
            return data["alerts"]
        data = await api.graphql(key, queries.ALERTS, {"first": 100})
        return data["alerts"]

    got = await asyncio.gather(summary(), customers(), channels(), alerts())
    return dict(zip(("summary", "customers", "channels", "alerts"), got, strict=True))


class LiveState(AuthState):
    loaded_for: str = ""  # "<role>:<partner>:<customer>" the data below belongs to
    loading: bool = False
    load_error: str = ""
    live: bool = False
    live_error: str = ""  # why live updates stopped for good (refused key, too many sockets)

    day_balance: int = 0
    low_days_threshold: int | None = None
    day_price: str = ""
    day_price_text: str = ""
    trial_eligible: bool = False

    customers: list[WalletRow] = []
    customer_options: list[Option] = []
    total_balance_text: str = ""
    low_wallets: int = 0
    channel_count: int = 0
    active_channel_count: int = 0
    expiring: list[ChannelRow] = []
    alerts: list[AlertRow] = []

    # Every channel the key may see, by id: the channels page filters and sorts these.
    _channels: dict[str, ChannelRow] = {}

    @rx.var
    def days_low(self) -> bool:
        threshold = self.low_days_threshold
        return threshold is not None and self.day_balance < threshold

    @rx.var
    def day_balance_text(self) -> str:
        return plural(self.day_balance, "day")

    @rx.var
    def unresolved_alerts(self) -> int:
        return len([a for a in self.alerts if not a.resolved])

    def _scope(self) -> str:
        return f"{self.role}:{self.partner_id}:{self.customer_id}"

    # ---- loading ----------------------------------------------------------

    def _apply_core(self, core: dict[str, Any]) -> None:
        summary = core["summary"]
        if summary is not None:
            self.day_balance = summary["dayBalance"]
            self.low_days_threshold = summary["lowDaysThreshold"]
            self.day_price = summary["dayPrice"]["amount"]
            self.day_price_text = money(self.day_price, summary["dayPrice"]["currencyCode"])
            self.trial_eligible = summary["trialEligible"]
            self.partner_name = summary["name"]
            self.currency = summary["currencyCode"]
        self.customers = [WalletRow.from_api(c, c["wallet"]) for c in core["customers"]]
        self.customer_options = [Option(c.customer_id, c.customer_name) for c in self.customers]
        self._channels = {node["id"]: ChannelRow.from_api(node) for node in core["channels"]}
        self.alerts = [AlertRow.from_api(a) for a in core["alerts"][:MAX_ALERTS]]
        self._recount()

    def _recount(self) -> None:
        """Totals and the expiring list, recomputed from the rows (cheap: a few thousand at most)."""
        totals: dict[str, Decimal] = {}
        for row in self.customers:
            totals[row.currency] = totals.get(row.currency, Decimal(0)) + to_decimal(row.balance)
        self.total_balance_text = (
            " + ".join(money(amount, cur) for cur, amount in sorted(totals.items())) or "—"
        )
        self.low_wallets = len([row for row in self.customers if row.low or row.overdrawn])
        live = [c for c in self._channels.values() if c.status != "DELETED"]
        self.channel_count = len(live)
        self.active_channel_count = len([c for c in live if c.status in ("ACTIVE", "TRIAL")])
        soon = [
            c
            for c in live
            if c.status in ("ACTIVE", "TRIAL") and c.days_remaining <= EXPIRING_WITHIN_DAYS
        ]
        soon.sort(key=lambda c: (c.days_remaining, c.active_until_iso))
        self.expiring = soon[:25]

    async def _load(self) -> None:
        """Fetch outside the state lock's concerns: handlers call this directly."""
        self.loading = True
        self.load_error = ""
        try:
            core = await fetch_core(self.api_key, self.role, self.partner_id, self.customer_id)
        except api.ApiError as error:
            self.load_error = error.message
            return
        finally:
            self.loading = False
        self._apply_core(core)
        self.loaded_for = self._scope()

    async def _open_page(self, page: str) -> tuple[bool, Any]:
        """Check the key and the role, load the shared data, go live.

        Returns whether the page may load its own data, and the event to return
        (a redirect, or nothing). The live task is started by the page frame's
        ``on_mount``, not from here: Reflex cancels what an ``on_load`` chain
        started when the user navigates to another page.
        """
        redirect = await self.ensure_viewer(page)
        if redirect:
            return False, rx.redirect(redirect)
        if self.role == ADMIN and not self.partner_id:
            return False, None  # the page asks the admin to choose a partner first
        if self.loaded_for != self._scope():
            await self._load()
        return True, None

    @rx.event
    async def open_page(self, page: str) -> Any:
        """The on_load of pages with nothing of their own to load (the overview)."""
        _, event = await self._open_page(page)
        return event

    @rx.event
    async def refresh(self) -> None:
        await self._load()

    @rx.event
    def choose_partner(self, partner_id: str) -> Any:
        """ADMIN: look at one partner's business; every page reloads for it, and the live
        task restarts for it (which is why this handler belongs to the live state)."""
        self._select_partner(partner_id)
        live_tabs.stop_live(self.router.session.client_token)
        # The page frame stays mounted, so its on_mount will not start the live task
        # again: start it here, for the new partner (it fetches its own snapshot).
        return [rx.redirect(self.router.url.path or "/"), LiveState.run_live]

    # ---- live updates -----------------------------------------------------

    def _subscriptions(self) -> dict[str, str]:
        subs = {"balance": queries.SUB_BALANCE, "channel": queries.SUB_CHANNELS}
        subs["alert"] = queries.SUB_ALERTS
        if self.role != CUSTOMER:
            subs["days"] = queries.SUB_DAYS
        return subs

    def _apply_event(self, name: str, data: dict[str, Any]) -> list[Any]:
        """Write one subscription event into state; return events to fire (toasts)."""
        fire: list[Any] = []
        if name == BALANCE_CHANGED:
            wallet = data["wallet"]
            for i, row in enumerate(self.customers):
                if row.wallet_id == wallet["id"]:
                    customer = {
                        "id": row.customer_id,
                        "name": row.customer_name,
                        "suspended": row.suspended,
                    }
                    self.customers[i] = WalletRow.from_api(customer, wallet)
                    self._recount()
                    break
        elif name == DAY_BALANCE_CHANGED:
            partner = data["partner"]
            if partner["id"] == self.partner_id:
                self.day_balance = partner["dayBalance"]
                self.low_days_threshold = partner["lowDaysThreshold"]
        elif name == CHANNEL_CHANGED:
            row = ChannelRow.from_api(data)
            if self.role == ADMIN and row.customer_id not in {
                c.customer_id for c in self.customers
            }:
                return fire  # an ADMIN stream carries every partner's channels
            self._channels[row.id] = row
            self._recount()
        elif name == ALERTS:
            if self.role == ADMIN and data.get("partnerId") not in (None, self.partner_id):
                return fire
            alert = AlertRow.from_api(data)
            known = [i for i, a in enumerate(self.alerts) if a.id == alert.id]
            if known:
                self.alerts[known[0]] = alert
            else:
                self.alerts = [alert, *self.alerts][:MAX_ALERTS]
                if not alert.resolved:
                    fire.append(rx.toast.warning(f"{alert.label}: {alert.message}", duration=8000))
        return fire

    async def _wait_for_page_load(self, scope: str | None = None, limit: float = 10.0) -> None:
        """Wait (up to ``limit`` seconds) while the page's own load is in flight, and,
        given a ``scope``, until the page has loaded the data of that scope."""
        deadline = asyncio.get_running_loop().time() + limit
        while asyncio.get_running_loop().time() < deadline:
            async with self:
                if not self.loading and (scope is None or self.loaded_for == scope):
                    return
            await asyncio.sleep(0.05)

    @rx.event(background=True)
    async def run_live(self) -> AsyncIterator[Any]:
        """Follow the tab's key and partner live until the tab goes or the key changes.

        Every (re)start subscribes first, then fetches the snapshot, then applies
        the events that arrived meanwhile: nothing that happened while no task
        was following (a partner change, a reload, a dropped socket) is missed.
        """
        token = self.router.session.client_token
        async with self:
            key, scope, subs = self.api_key, self._scope(), self._subscriptions()
            role, partner_id = self.role, self.partner_id
        if not key or not role or (role == ADMIN and not partner_id):
            return  # not signed in yet, or an ADMIN who has not chosen a partner
        if live_tabs.is_live(token, (key, scope)):
            return  # this tab is already live for the same key and partner
        me = asyncio.current_task()
        assert me is not None
        live_tabs.claim(token, me, (key, scope))
        if "days" in subs and partner_id:
            # An ADMIN key would otherwise follow every partner's day balance.
            subs["days"] = subs["days"].replace(
                "dayBalanceChanged {", f'dayBalanceChanged(partnerId: "{partner_id}") {{'
            )
        watchdog = asyncio.create_task(live_tabs.watchdog(token, me))
        # Let the page's own first load (its on_load) finish before subscribing and
        # taking the snapshot: the first paint then has the API and both cores to
        # itself (sign-in to overview went from ~1.6 s to ~1.1 s with 1,000 channels).
        # The snapshot after subscribing still follows, so nothing is missed.
        await self._wait_for_page_load(scope, limit=3.0)
        backoff = 0.5
        try:
            while True:
                try:
                    async for name, data in api.subscribe(key, subs):
                        if name == api.READY:
                            # Subscribed: events now queue up in the stream while the
                            # snapshot is fetched, and are applied after it. A page
                            # load still fetching first gets the API to itself, so
                            # the first paint is not slowed by this second fetch.
                            await self._wait_for_page_load()
                            core = await fetch_core(key, *scope.split(":"))
                            async with self:
                                if self._scope() != scope or self.api_key != key:
                                    return  # signed out or another partner meanwhile
                                self._apply_core(core)
                                self.loaded_for = scope
                                # The open pages' own views follow the snapshot (table rows, first pages).
                                await LIVE_EVENTS.resync(self)
                                self.live = True
                                self.live_error = ""
                            continue
                        (field,) = data.keys()
                        async with self:
                            fire = self._apply_event(field, data[field])
                            # The page states' own views follow (ledger rows, billing history).
                            await LIVE_EVENTS.dispatch(self, field, data[field])
                        for event in fire:
                            yield event
                        backoff = 0.5
                except (api.Unauthorized, api.LiveRefused) as error:
                    # A retry would be refused the same way: stop, and say why.
                    async with self:
                        self.live_error = error.message
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # any socket failure: show it, wait, reconnect
                    log.warning("live connection lost: %r", error)
                async with self:
                    self.live = False
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)
        finally:
            watchdog.cancel()
            live_tabs.release(token, me)
            with contextlib.suppress(Exception):
                async with self:
                    self.live = False
                    # Nobody follows this scope any more: the next page load fetches afresh.
                    if self.loaded_for == scope:
                        self.loaded_for = ""
