"""Sign in with an API key; it stays in this tab's sessionStorage until sign-out."""

from __future__ import annotations

import reflex as rx

from frontend.state.auth import AuthState


def signin() -> rx.Component:
    return rx.center(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading("Daybook", size="7"),
                    rx.text(
                        "Sign in with your API key (ADMIN, PARTNER or CUSTOMER). It is kept in "
                        "this browser tab only, and forgotten when you sign out.",
                        size="2",
                        color_scheme="gray",
                    ),
                    rx.input(
                        name="api_key",
                        placeholder="dbk_…",
                        type="password",
                        width="100%",
                        size="3",
                        id="api-key",
                        auto_focus=True,
                    ),
                    rx.cond(
                        AuthState.sign_in_error != "",
                        rx.text(
                            AuthState.sign_in_error,
                            color_scheme="red",
                            size="2",
                            role="alert",
                            class_name="field-error",
                        ),
                        rx.fragment(),
                    ),
                    rx.button(
                        "Sign in",
                        type="submit",
                        loading=AuthState.signing_in,
                        width="100%",
                        size="3",
                        id="sign-in",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=AuthState.sign_in,
                reset_on_submit=False,
            ),
            width="100%",
            max_width="420px",
        ),
        height="100vh",
        padding="1em",
    )
