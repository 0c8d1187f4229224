"""Dashboard state: ``AuthState`` (the key) > ``LiveState`` (shared, live data) > one state per page."""
