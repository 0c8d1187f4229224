"""Reflex configuration for the partner dashboard in ``frontend/``.

The dashboard is only a client of the GraphQL API (``DAYBOOK_API_URL``); it
keeps no database of its own, and reports nothing anywhere (telemetry off).
"""

import reflex as rx

config = rx.Config(
    app_name="frontend",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="teal", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
