"""Mutation roots, one module per area; ``backend.api.schema`` merges them."""
