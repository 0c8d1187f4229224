"""The channels page: a sortable, filterable, paginated table; create, extend and delete."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import reflex as rx

from frontend import api, queries
from frontend.formatting import money, plural, to_decimal
from frontend.forms import errors_by_control, key_for, new_key
from frontend.state.live import LiveState
from frontend.state.live_events import CHANNEL_CHANGED, LIVE_EVENTS, StateTree
from frontend.state.models import ChannelRow

PRESETS = ["5", "30", "90"]
MAX_DAYS = 3650
SORT_KEYS = {
    "name": lambda c: c.name.lower(),
    "customer": lambda c: c.customer_name.lower(),
    "status": lambda c: c.status,
    "days": lambda c: c.days_remaining,
    "until": lambda c: c.active_until_iso or "",
    "tier": lambda c: c.tier,
}


class ChannelsState(LiveState):
    search: str = ""
    status_filter: str = "LIVE"
    tier_filter: str = "ALL"
    customer_filter: str = "ALL"
    sort_key: str = "days"
    sort_desc: bool = False
    page: int = 0
    page_size: int = 25
    rows: list[ChannelRow] = []
    matching: int = 0
    selected: list[str] = []

    # extend
    extend_open: bool = False
    extend_ids: list[str] = []
    extend_preset: str = "30"
    extend_custom: str = ""
    extend_comment: str = ""
    extend_errors: dict[str, str] = {}
    extending: bool = False
    _extend_key: str = ""
    _extend_sent_with: str = ""  # the inputs _extend_key was last sent with

    # create
    create_open: bool = False
    create_customer: str = ""
    create_name: str = ""
    create_phone: str = ""
    create_phone_id: str = ""
    create_trial: bool = False
    create_fund: bool = False
    create_errors: dict[str, str] = {}
    creating: bool = False

    # delete
    delete_open: bool = False
    delete_id: str = ""
    delete_name: str = ""
    delete_refund: int = -1  # -1 while it is being worked out
    delete_comment: str = ""
    delete_errors: dict[str, str] = {}
    deleting: bool = False

    # ---- the table --------------------------------------------------------

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.matching // self.page_size))

    @rx.var
    def page_label(self) -> str:
        if not self.matching:
            return "No channels"
        first = self.page * self.page_size + 1
        last = min(self.matching, first + self.page_size - 1)
        return f"{first}-{last} of {self.matching}"

    @rx.var
    def selected_count(self) -> int:
        return len(self.selected)

    @rx.var
    def all_on_page_selected(self) -> bool:
        return bool(self.rows) and all(r.id in self.selected for r in self.rows)

    def rebuild(self) -> None:
        needle = self.search.strip().lower()
        found = []
        for c in self._channels.values():
            if self.status_filter == "LIVE" and c.status == "DELETED":
                continue
            if self.status_filter not in ("LIVE", "ALL") and c.status != self.status_filter:
                continue
            if self.tier_filter != "ALL" and c.tier != self.tier_filter:
                continue
            if self.customer_filter != "ALL" and c.customer_id != self.customer_filter:
                continue
            if needle and not (
                needle in c.name.lower() or needle in c.phone or needle in c.customer_name.lower()
            ):
                continue
            found.append(c)
        found.sort(key=lambda c: c.name.lower())  # stable tie-break
        found.sort(key=SORT_KEYS[self.sort_key], reverse=self.sort_desc)
        self.matching = len(found)
        self.page = min(self.page, max(0, -(-self.matching // self.page_size) - 1))
        start = self.page * self.page_size
        self.rows = found[start : start + self.page_size]
        live_ids = {c.id for c in found}
        self.selected = [i for i in self.selected if i in live_ids]

    @rx.event
    async def load(self) -> Any:
        ok, event = await self._open_page("channels")
        if ok:
            self.rebuild()
        return event

    @rx.event
    def set_search(self, value: str) -> None:
        self.search = value
        self.page = 0
        self.rebuild()

    @rx.event
    def set_status_filter(self, value: str) -> None:
        self.status_filter = value
        self.page = 0
        self.rebuild()

    @rx.event
    def set_tier_filter(self, value: str) -> None:
        self.tier_filter = value
        self.page = 0
        self.rebuild()

    @rx.event
    def set_customer_filter(self, value: str) -> None:
        self.customer_filter = value
        self.page = 0
        self.rebuild()

    @rx.event
    def set_page_size(self, value: str) -> None:
        try:
            size = int(value)
        except ValueError:
            return
        if size < 1:
            return  # a page of no rows would divide by zero
        self.page_size = size
        self.page = 0
        self.rebuild()

    @rx.event
    def sort_by(self, key: str) -> None:
        if key not in SORT_KEYS:
            return
        self.sort_desc = not self.sort_desc if self.sort_key == key else False
        self.sort_key = key
        self.rebuild()

    @rx.event
    def next_page(self) -> None:
        if (self.page + 1) * self.page_size < self.matching:
            self.page += 1
            self.rebuild()

    @rx.event
    def prev_page(self) -> None:
        if self.page > 0:
            self.page -= 1
            self.rebuild()

    @rx.event
    def toggle(self, channel_id: str) -> None:
        if channel_id in self.selected:
            self.selected = [i for i in self.selected if i != channel_id]
        else:
            self.selected = [*self.selected, channel_id]

    @rx.event
    def toggle_page(self, checked: bool) -> None:
        on_page = [r.id for r in self.rows if r.status != "DELETED"]
        if checked:
            self.selected = [*self.selected, *[i for i in on_page if i not in self.selected]]
        else:
            self.selected = [i for i in self.selected if i not in on_page]

    @rx.event
    def clear_selection(self) -> None:
        self.selected = []

    # ---- extend -----------------------------------------------------------

    @rx.var
    def extend_days(self) -> int:
        text = self.extend_custom if self.extend_preset == "custom" else self.extend_preset
        try:
            return int(text.strip())
        except ValueError:
            return 0

    @rx.var
    def extend_count(self) -> int:
        return len(self.extend_ids)

    @rx.var
    def extend_cost(self) -> int:
        return max(self.extend_days, 0) * len(self.extend_ids)

    @rx.var
    def extend_balance_after(self) -> int:
        return self.day_balance - self.extend_cost

    @rx.var
    def extend_summary(self) -> str:
        n = len(self.extend_ids)
        if self.extend_days <= 0:
            return "Choose how many days to add."
        cost = self.extend_cost
        # Money from Decimal strings: days x the partner's day price, never a float.
        price = to_decimal(self.day_price) * Decimal(cost)
        return (
            f"{plural(self.extend_days, 'day')} x {plural(n, 'channel')} = "
            f"{plural(cost, 'day')} ({money(price, self.currency)}) from the balance"
        )

    @rx.var
    def extend_targets(self) -> str:
        names = [self._channels[i].name for i in self.extend_ids if i in self._channels]
        shown = ", ".join(names[:5])
        return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")

    def _open_extend(self, ids: list[str]) -> None:
        self.extend_ids = ids
        self.extend_preset = "30"
        self.extend_custom = ""
        self.extend_comment = ""
        self.extend_errors = {}
        # One key per dialog: a double click or a retried request extends once.
        self._extend_key = new_key()
        self._extend_sent_with = ""
        self.extend_open = True

    @rx.event
    def open_extend_one(self, channel_id: str) -> None:
        self._open_extend([channel_id])

    @rx.event
    def open_extend_selected(self) -> None:
        if self.selected:
            self._open_extend(list(self.selected))

    @rx.event
    def set_extend_open(self, value: bool) -> None:
        self.extend_open = value

    @rx.event
    def set_extend_preset(self, value: str | list[str]) -> None:
        self.extend_preset = value if isinstance(value, str) else (value[0] if value else "30")
        self.extend_errors = {k: v for k, v in self.extend_errors.items() if k != "days"}

    @rx.event
    def set_extend_custom(self, value: str) -> None:
        self.extend_custom = value
        self.extend_preset = "custom"

    @rx.event
    def set_extend_comment(self, value: str) -> None:
        self.extend_comment = value
        self.extend_errors = {k: v for k, v in self.extend_errors.items() if k != "comment"}

    @rx.event
    async def confirm_extend(self) -> Any:
        days = self.extend_days
        if self.extend_preset == "custom" and not (1 <= days <= MAX_DAYS):
            self.extend_errors = {"days": f"Enter a whole number of days from 1 to {MAX_DAYS}."}
            return
        # The same extension sent again replays; changed inputs after a failure get a new key.
        inputs = f"{','.join(self.extend_ids)}|{days}|{self.extend_comment}"
        self._extend_key = key_for(self._extend_key, self._extend_sent_with, inputs)
        self._extend_sent_with = inputs
        self.extending = True
        yield
        try:
            data = await api.graphql(
                self.api_key,
                queries.EXTEND_CHANNELS,
                {
                    "items": [{"channelId": i, "days": days} for i in self.extend_ids],
                    "comment": self.extend_comment,
                    "key": self._extend_key,
                },
            )
        except api.ApiError as error:
            self.extend_errors = {"form": error.message}
            return
        finally:
            self.extending = False
        payload = data["extendChannels"]
        errors = api.user_errors(payload)
        if errors:
            self.extend_errors = errors_by_control(
                errors, ["days", "channelId", "items", "comment"]
            )
            return
        for node in payload["channels"]:
            self._channels[node["id"]] = ChannelRow.from_api(node)
        if payload["dayEntries"]:
            self.day_balance = min(e["dayBalanceAfter"] for e in payload["dayEntries"])
        self._recount()
        self.rebuild()
        count = len(payload["channels"])
        self.extend_open = False
        self.selected = []
        yield rx.toast.success(f"Extended {plural(count, 'channel')} by {plural(days, 'day')}.")

    # ---- create -----------------------------------------------------------

    @rx.event
    def open_create(self) -> None:
        self.create_customer = self.customer_options[0].value if self.customer_options else ""
        self.create_name = self.create_phone = self.create_phone_id = ""
        self.create_trial = False
        self.create_fund = not self.trial_eligible
        self.create_errors = {}
        self.create_open = True

    @rx.event
    def set_create_open(self, value: bool) -> None:
        self.create_open = value

    @rx.event
    def set_create_customer(self, value: str) -> None:
        self.create_customer = value

    @rx.event
    def set_create_name(self, value: str) -> None:
        self.create_name = value
        self.create_errors = {k: v for k, v in self.create_errors.items() if k != "name"}

    @rx.event
    def set_create_phone(self, value: str) -> None:
        self.create_phone = value
        self.create_errors = {k: v for k, v in self.create_errors.items() if k != "phoneNumber"}

    @rx.event
    def set_create_phone_id(self, value: str) -> None:
        self.create_phone_id = value

    @rx.event
    def set_create_trial(self, value: bool) -> None:
        self.create_trial = value
        self.create_errors = {k: v for k, v in self.create_errors.items() if k != "trial"}

    @rx.event
    def set_create_fund(self, value: bool) -> None:
        self.create_fund = value

    @rx.event
    async def confirm_create(self) -> Any:
        if not self.create_customer:
            self.create_errors = {"customerId": "Choose the customer this channel belongs to."}
            return
        self.creating = True
        yield
        try:
            data = await api.graphql(
                self.api_key,
                queries.CREATE_CHANNEL,
                {
                    "customerId": self.create_customer,
                    "name": self.create_name,
                    "phoneNumber": self.create_phone,
                    "phoneNumberId": self.create_phone_id.strip() or None,
                    "trial": self.create_trial,
                    "fund": self.create_trial and self.create_fund,
                },
            )
        except api.ApiError as error:
            self.create_errors = {"form": error.message}
            return
        finally:
            self.creating = False
        payload = data["createChannel"]
        errors = api.user_errors(payload)
        if errors:
            # fundTrialFromBalance problems belong next to the trial switch.
            # fundTrialFromBalance problems belong next to the trial switch.
            self.create_errors = errors_by_control(
                [
                    api.UserError("trial", e.code, e.message)
                    if e.field == "fundTrialFromBalance"
                    else e
                    for e in errors
                ],
                ["customerId", "name", "phoneNumber", "phoneNumberId", "trial"],
            )
            return
        row = ChannelRow.from_api(payload["channel"])
        self._channels[row.id] = row
        if payload.get("dayEntry"):
            self.day_balance = payload["dayEntry"]["dayBalanceAfter"]
        self._recount()
        self.rebuild()
        self.create_open = False
        yield rx.toast.success(f"Channel {row.name} created ({row.status.lower()}).")

    # ---- delete -----------------------------------------------------------

    @rx.event
    async def open_delete(self, channel_id: str) -> Any:
        row = self._channels.get(channel_id)
        if row is None:
            return
        self.delete_id = channel_id
        self.delete_name = f"{row.name} ({row.phone})"
        self.delete_comment = ""
        self.delete_errors = {}
        self.delete_refund = -1
        self.delete_open = True
        yield
        try:
            # The API's own figure: what deleteChannel would refund if confirmed now.
            data = await api.graphql(self.api_key, queries.CHANNEL_REFUNDABLE, {"id": channel_id})
        except api.ApiError as error:
            self.delete_errors = {"form": error.message}
            return
        self.delete_refund = data["channel"]["refundableDays"]

    @rx.var
    def delete_refund_text(self) -> str:
        if self.delete_refund < 0:
            return "Working out the days to refund…"
        if self.delete_refund == 0:
            return "No paid days are left on this channel: nothing goes back to the balance."
        return (
            f"{plural(self.delete_refund, 'unused paid day')} go back to the day balance "
            f"(balance after: {plural(self.day_balance + self.delete_refund, 'day')})."
        )

    @rx.event
    def set_delete_open(self, value: bool) -> None:
        self.delete_open = value

    @rx.event
    def set_delete_comment(self, value: str) -> None:
        self.delete_comment = value
        self.delete_errors = {}

    @rx.event
    async def confirm_delete(self) -> Any:
        self.deleting = True
        yield
        try:
            data = await api.graphql(
                self.api_key,
                queries.DELETE_CHANNEL,
                {"channelId": self.delete_id, "comment": self.delete_comment},
            )
        except api.ApiError as error:
            self.delete_errors = {"form": error.message}
            return
        finally:
            self.deleting = False
        payload = data["deleteChannel"]
        errors = api.user_errors(payload)
        if errors:
            self.delete_errors = errors_by_control(errors, ["comment", "channelId"])
            return
        row = ChannelRow.from_api(payload["channel"])
        self._channels[row.id] = row
        refunded = payload["dayEntry"]["days"]
        self.day_balance = payload["dayEntry"]["dayBalanceAfter"]
        self._recount()
        self.rebuild()
        self.delete_open = False
        yield rx.toast.success(f"Deleted {row.name}; {plural(refunded, 'day')} refunded.")


# ---- live: the table follows every channel change and every fresh snapshot ----


@LIVE_EVENTS.on(CHANNEL_CHANGED)
async def _table_follows_channel(live: StateTree, data: dict[str, Any]) -> None:
    (await live.get_state(ChannelsState)).rebuild()


@LIVE_EVENTS.on_resync
async def _table_follows_snapshot(live: StateTree) -> None:
    (await live.get_state(ChannelsState)).rebuild()
