"""Reflex configuration for the partner dashboard in ``frontend/``.

The dashboard is only a client of the GraphQL API (``DAYBOOK_API_URL``); it
keeps no database of its own, and reports nothing anywhere (telemetry off).
State stays in memory: Reflex's disk state manager would pickle every tab's
state, API key included, to ``.states/*.pkl``.
"""

import reflex as rx
from reflex.constants import StateManagerMode

config = rx.Config(
    app_name="frontend",
    telemetry_enabled=False,
    # Never the disk manager: it would write API keys to .states/ in plain text.
    state_manager_mode=StateManagerMode.MEMORY,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="teal", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
