"""Connections' records: who watches which session over the WebSocket API (hub.connect.store)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Watcher:
    """A connection watching a session, as the Connections table holds it."""

    connection_id: str
    connected_at_ms: int
    link_kind: str
    """`session` or `user`: the kind of connect link the connection was opened with."""
