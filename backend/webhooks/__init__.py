"""WhatsApp Cloud API webhook ingest: verify, store, then process (design rule 5)."""
