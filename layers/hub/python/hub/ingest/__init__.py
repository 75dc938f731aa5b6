"""Receiving gateway events: dialects, the normalized event vocabulary, the session state machine, dedupe and ingest limits."""
