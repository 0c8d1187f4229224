"""Events: what changed, published only after the transaction that changed it commits (rule 7)."""
