"""The frame of every signed-in page: navigation by role, the partner picker, live status, sign-out."""

from __future__ import annotations

import reflex as rx

from frontend.state.auth import AuthState
from frontend.state.live import LiveState

NAV = [
    ("Overview", "/", "layout_dashboard", False),
    ("Channels", "/channels", "smartphone", False),
    ("Wallets", "/wallets", "wallet", False),
    ("Billing history", "/billing", "history", True),  # partner pages only
    ("Invoices", "/invoices", "file_text", False),
]


def nav_link(label: str, href: str, icon: str) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon(icon, size=16), rx.text(label, size="2"), spacing="2", align="center"),
        href=href,
        underline="none",
        padding_x="0.6em",
        padding_y="0.4em",
        border_radius="6px",
        white_space="nowrap",
        _hover={"background": rx.color("accent", 3)},
        id=f"nav-{href.strip('/') or 'overview'}",
    )


def partner_picker() -> rx.Component:
    return rx.cond(
        AuthState.is_admin,
        rx.select.root(
            rx.select.trigger(placeholder="Choose a partner", id="partner-picker"),
            rx.select.content(
                rx.foreach(
                    AuthState.partners,
                    lambda p: rx.select.item(p.name, value=p.id),
                )
            ),
            value=AuthState.partner_id,
            on_change=LiveState.choose_partner,
        ),
        rx.fragment(),
    )


def live_badge() -> rx.Component:
    return rx.cond(
        LiveState.live,
        rx.badge(rx.icon("radio", size=12), "Live", color_scheme="green", id="live-badge"),
        rx.badge("Offline", color_scheme="gray", id="live-badge"),
    )


def navigation() -> rx.Component:
    links = [
        nav_link(label, href, icon)
        if not partner_only
        else rx.cond(AuthState.is_customer, rx.fragment(), nav_link(label, href, icon))
        for label, href, icon, partner_only in NAV
    ]
    return rx.flex(
        rx.hstack(
            rx.heading("Daybook", size="5"),
            live_badge(),
            align="center",
            spacing="2",
        ),
        rx.flex(
            *links,
            direction=rx.breakpoints(initial="row", md="column"),
            spacing="1",
            overflow_x="auto",
            width="100%",
        ),
        rx.spacer(),
        rx.vstack(
            partner_picker(),
            rx.text(
                rx.cond(
                    AuthState.is_customer,
                    AuthState.customer_name,
                    AuthState.partner_name,
                ),
                " · ",
                AuthState.role.lower(),
                size="1",
                color_scheme="gray",
                id="viewer-label",
            ),
            rx.button(
                rx.icon("log_out", size=14),
                "Sign out",
                on_click=AuthState.sign_out,
                variant="soft",
                size="1",
                id="sign-out",
            ),
            spacing="2",
        ),
        direction="column",
        spacing="4",
        padding="1em",
        width=rx.breakpoints(initial="100%", md="230px"),
        min_width=rx.breakpoints(initial="0", md="230px"),
        height=rx.breakpoints(initial="auto", md="100vh"),
        position=rx.breakpoints(initial="static", md="sticky"),
        top="0",
        border_right=rx.breakpoints(initial="none", md=f"1px solid {rx.color('gray', 5)}"),
        border_bottom=rx.breakpoints(initial=f"1px solid {rx.color('gray', 5)}", md="none"),
        background=rx.color("gray", 2),
    )


def choose_partner_prompt() -> rx.Component:
    return rx.callout(
        "You are signed in with an ADMIN key: choose the partner to look at in the menu.",
        icon="info",
        id="choose-partner",
    )


def page(title: str, *children: rx.Component, actions: rx.Component | None = None) -> rx.Component:
    """A signed-in page; nothing but a spinner shows until the key has been checked."""
    body = rx.vstack(
        rx.flex(
            rx.heading(title, size="7"),
            rx.spacer(),
            actions or rx.fragment(),
            width="100%",
            align="center",
            wrap="wrap",
            gap="2",
        ),
        rx.cond(
            AuthState.notice != "",
            rx.callout(
                rx.hstack(
                    rx.text(AuthState.notice),
                    rx.icon("x", size=14, cursor="pointer", on_click=AuthState.dismiss_notice),
                ),
                icon="shield_alert",
                color_scheme="amber",
                id="notice",
            ),
            rx.fragment(),
        ),
        rx.cond(
            LiveState.live_error != "",
            rx.callout(
                LiveState.live_error, icon="wifi_off", color_scheme="amber", id="live-error"
            ),
            rx.fragment(),
        ),
        rx.cond(
            LiveState.load_error != "",
            rx.callout(LiveState.load_error, icon="triangle_alert", color_scheme="red"),
            rx.fragment(),
        ),
        rx.cond(
            AuthState.needs_partner_choice,
            choose_partner_prompt(),
            rx.vstack(*children, width="100%", spacing="4"),
        ),
        spacing="4",
        padding=rx.breakpoints(initial="0.75em", md="1.5em"),
        width="100%",
        max_width="1400px",
        min_width="0",
    )
    return rx.cond(
        AuthState.signed_in,
        rx.flex(
            navigation(),
            body,
            direction=rx.breakpoints(initial="column", md="row"),
            width="100%",
            min_height="100vh",
            # Mounted once the key is checked; a no-op when this tab is already live.
            on_mount=LiveState.run_live,
        ),
        rx.center(rx.spinner(size="3"), height="100vh"),
    )
