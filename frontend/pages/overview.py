"""Overview: day balance and its low-days state, wallet totals, channels expiring soon, latest alerts."""

from __future__ import annotations

import reflex as rx

from frontend.components.common import empty, loading, scroll_table, stat_card, status_badge
from frontend.components.layout import page
from frontend.state.live import EXPIRING_WITHIN_DAYS, LiveState
from frontend.state.models import AlertRow, ChannelRow


def day_balance_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text("Day balance", size="2", color_scheme="gray"),
                rx.cond(
                    LiveState.days_low,
                    rx.badge("Low", color_scheme="orange", id="days-low"),
                    rx.badge("OK", color_scheme="green"),
                ),
            ),
            rx.heading(
                LiveState.day_balance_text,
                size="6",
                id="day-balance",
                color_scheme=rx.cond(LiveState.days_low, "orange", "gray"),
            ),
            rx.text(
                rx.cond(
                    LiveState.low_days_threshold,
                    f"alert below {LiveState.low_days_threshold} days · ",
                    "no low-days alert set · ",
                ),
                LiveState.day_price_text,
                " a day",
                size="1",
                color_scheme="gray",
            ),
            spacing="1",
        ),
        width="100%",
    )


def wallet_card() -> rx.Component:
    return stat_card(
        rx.cond(LiveState.is_customer, "Wallet balance", "Total wallet balances"),
        LiveState.total_balance_text,
        rx.cond(
            LiveState.low_wallets > 0,
            f"{LiveState.low_wallets} wallet(s) low or overdrawn",
            f"{LiveState.customers.length()} wallet(s), none low",
        ),
        id="total-balance",
    )


def channels_card() -> rx.Component:
    return stat_card(
        "Channels",
        f"{LiveState.active_channel_count} active",
        f"{LiveState.channel_count} live in all · {LiveState.expiring.length()} expiring soon",
        id="channel-count",
    )


def expiring_row(channel: ChannelRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(channel.name),
        rx.table.cell(channel.customer_name),
        rx.table.cell(status_badge(channel.status)),
        rx.table.cell(rx.text(channel.days_remaining, id=f"expiring-days-{channel.id}")),
        rx.table.cell(channel.active_until),
    )


def expiring_table() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(f"Expiring within {EXPIRING_WITHIN_DAYS} days", size="4"),
            rx.cond(
                LiveState.expiring.length() > 0,
                scroll_table(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Channel"),
                            rx.table.column_header_cell("Customer"),
                            rx.table.column_header_cell("Status"),
                            rx.table.column_header_cell("Days left"),
                            rx.table.column_header_cell("Active until"),
                        )
                    ),
                    rx.table.body(rx.foreach(LiveState.expiring, expiring_row)),
                    id="expiring-table",
                ),
                empty("No channel runs out within a week."),
            ),
            rx.link("All channels →", href="/channels", size="2"),
            width="100%",
        ),
        width="100%",
    )


def alert_item(alert: AlertRow) -> rx.Component:
    return rx.hstack(
        rx.badge(alert.label, color_scheme=alert.tone),
        rx.vstack(
            rx.text(alert.message, size="2"),
            rx.text(
                alert.created,
                rx.cond(alert.resolved, " · resolved " + alert.resolved_at, ""),
                size="1",
                color_scheme="gray",
            ),
            spacing="0",
        ),
        opacity=rx.cond(alert.resolved, "0.55", "1"),
        align="start",
        width="100%",
        class_name="alert-item",
    )


def alerts_list() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Latest alerts", size="4"),
                rx.badge(f"{LiveState.unresolved_alerts} open", color_scheme="orange"),
            ),
            rx.cond(
                LiveState.alerts.length() > 0,
                rx.vstack(rx.foreach(LiveState.alerts, alert_item), width="100%", id="alerts"),
                empty("No alerts."),
            ),
            width="100%",
        ),
        width="100%",
    )


def wallet_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row.customer_name, href=f"/wallets?customer={row.customer_id}")),
        rx.table.cell(
            rx.text(
                row.balance_text,
                id=f"balance-{row.wallet_id}",
                color_scheme=rx.cond(row.low, "orange", "gray"),
            )
        ),
        rx.table.cell(row.available_text),
    )


def overview() -> rx.Component:
    return page(
        "Overview",
        rx.cond(
            LiveState.loaded_for == "",
            loading("Loading the overview…"),
            rx.vstack(
                rx.grid(
                    rx.cond(LiveState.is_customer, rx.fragment(), day_balance_card()),
                    wallet_card(),
                    channels_card(),
                    columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                    spacing="4",
                    width="100%",
                ),
                rx.grid(
                    expiring_table(),
                    alerts_list(),
                    columns=rx.breakpoints(initial="1", lg="2"),
                    spacing="4",
                    width="100%",
                ),
                rx.cond(
                    LiveState.is_customer,
                    rx.card(
                        scroll_table(
                            rx.table.header(
                                rx.table.row(
                                    rx.table.column_header_cell("Wallet"),
                                    rx.table.column_header_cell("Balance"),
                                    rx.table.column_header_cell("Available"),
                                )
                            ),
                            rx.table.body(rx.foreach(LiveState.customers, wallet_row)),
                        ),
                        width="100%",
                    ),
                    rx.fragment(),
                ),
                spacing="4",
                width="100%",
                id="overview-ready",
            ),
        ),
        actions=rx.button(
            rx.icon("refresh_cw", size=14), "Refresh", variant="soft", on_click=LiveState.refresh
        ),
    )
