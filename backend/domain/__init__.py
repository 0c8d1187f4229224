"""The domain: models and rules; no GraphQL, no HTTP."""
