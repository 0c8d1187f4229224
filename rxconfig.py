"""Reflex configuration for the partner dashboard in ``frontend/`` (built in issue 7)."""

import reflex as rx

config = rx.Config(
    app_name="frontend",
    telemetry_enabled=False,
)
