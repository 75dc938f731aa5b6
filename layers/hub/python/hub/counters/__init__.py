"""Counters kept out of band from table streams: session summaries, usage and delivery stats."""
