"""Daybook: the prepaid billing core (ledger, tenants, wallets, days) and its GraphQL API."""
