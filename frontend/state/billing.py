"""Billing history: the partner's day entries (purchases, allocations, trials, refunds) with comments."""

from __future__ import annotations

from typing import Any

import reflex as rx

from frontend import api, queries
from frontend.formatting import date_filter
from frontend.state.auth import CUSTOMER
from frontend.state.live import LiveState
from frontend.state.live_events import DAY_BALANCE_CHANGED, LIVE_EVENTS, StateTree
from frontend.state.models import DayEntryRow

PAGE_SIZE = 25


class BillingState(LiveState):
    entries: list[DayEntryRow] = []
    total: int = 0
    history_loading: bool = False
    history_error: str = ""
    kind_filter: str = "ALL"
    channel_filter: str = "ALL"
    since: str = ""
    until: str = ""
    cursors: list[str] = []
    has_next: bool = False
    _next: str = ""
    csv_error: str = ""
    history_loaded: bool = False  # the page has been opened: a resync reloads its first page

    @rx.var
    def page_label(self) -> str:
        if not self.total:
            return "No entries"
        first = len(self.cursors) * PAGE_SIZE + 1
        return f"{first}-{first + len(self.entries) - 1} of {self.total}"

    @rx.var
    def channel_choices(self) -> list[list[str]]:
        rows = sorted(self._channels.values(), key=lambda c: c.name.lower())
        return [[c.id, f"{c.name} ({c.phone})"] for c in rows]

    def _filters(self) -> dict[str, Any]:
        return {
            "kind": None if self.kind_filter == "ALL" else self.kind_filter,
            "channelId": None if self.channel_filter == "ALL" else self.channel_filter,
            "since": date_filter(self.since),
            "until": date_filter(self.until, end=True),
        }

    async def fetch_history(self, after: str | None) -> None:
        self.history_loading = True
        self.history_error = ""
        try:
            data = await api.graphql(
                self.api_key,
                queries.DAY_ENTRIES,
                {
                    "partnerId": self.partner_id,
                    "first": PAGE_SIZE,
                    "after": after,
                    **self._filters(),
                },
            )
        except api.ApiError as error:
            self.history_error = error.message
            return
        finally:
            self.history_loading = False
        connection = data["partner"]["dayEntries"]
        self.history_loaded = True
        self.entries = [DayEntryRow.from_api(edge["node"]) for edge in connection["edges"]]
        self.total = connection["totalCount"]
        self.has_next = connection["pageInfo"]["hasNextPage"]
        self._next = connection["pageInfo"]["endCursor"] or ""

    @rx.event
    async def load(self) -> Any:
        ok, event = await self._open_page("billing")
        if ok:
            self.cursors = []
            await self.fetch_history(None)
        return event

    @rx.event
    async def reload(self) -> None:
        self.cursors = []
        await self.fetch_history(None)

    @rx.event
    async def next_page(self) -> None:
        if self.has_next:
            self.cursors = [*self.cursors, self._next]
            await self.fetch_history(self._next)

    @rx.event
    async def prev_page(self) -> None:
        if self.cursors:
            self.cursors = self.cursors[:-1]
            await self.fetch_history(self.cursors[-1] if self.cursors else None)

    @rx.event
    async def set_kind_filter(self, value: str) -> None:
        self.kind_filter = value
        await self.reload()

    @rx.event
    async def set_channel_filter(self, value: str) -> None:
        self.channel_filter = value
        await self.reload()

    @rx.event
    async def set_since(self, value: str) -> None:
        self.since = value
        await self.reload()

    @rx.event
    async def set_until(self, value: str) -> None:
        self.until = value
        await self.reload()

    def on_day_entry(self, entry: dict[str, Any]) -> None:
        """A new entry of the day balance appears at the top when the first page is unfiltered."""
        if not self.partner_id or self.cursors:
            return
        filters = self._filters()
        if any(filters.values()):
            return
        row = DayEntryRow.from_api(entry)
        if all(e.id != row.id for e in self.entries):
            self.entries = [row, *self.entries][:PAGE_SIZE]
            self.total += 1

    @rx.event
    async def download_csv(self) -> Any:
        self.csv_error = ""
        params = {k: v for k, v in self._filters().items() if v}
        try:
            body = await api.download(
                self.api_key, f"/partners/{self.partner_id}/day-entries.csv", params
            )
        except api.ApiError as error:
            self.csv_error = error.message
            return None
        return rx.download(
            data=body, filename=f"partner-{self.partner_id}-day-entries.csv", mime_type="text/csv"
        )


# ---- live: new day entries join the history; a fresh snapshot reloads its first page ----


@LIVE_EVENTS.on(DAY_BALANCE_CHANGED)
async def _history_follows_day_entry(live: StateTree, data: dict[str, Any]) -> None:
    (await live.get_state(BillingState)).on_day_entry(data["entry"])


@LIVE_EVENTS.on_resync
async def _history_follows_snapshot(live: StateTree) -> None:
    billing = await live.get_state(BillingState)
    # Only a history already opened, and never for a CUSTOMER key (a partner page).
    if billing.history_loaded and billing.role != CUSTOMER:
        billing.cursors = []
        await billing.fetch_history(None)
