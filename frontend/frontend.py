"""The partner dashboard (Reflex). A placeholder page until the dashboard issue builds it.

The dashboard will be a client of the GraphQL API only (``DAYBOOK_API_URL``);
it never touches the database.
"""

import os

import reflex as rx

API_URL = os.environ.get("DAYBOOK_API_URL", "http://127.0.0.1:8080")


def index() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.heading("Daybook"),
            rx.text("The partner dashboard is not built yet."),
            rx.link("Use the GraphQL API", href=f"{API_URL}/graphql"),
        ),
        height="100vh",
    )


app = rx.App()
app.add_page(index)
