"""Pushing session changes to the connect pages watching them (over API Gateway's @connections API,
hub.connect.push_store): for each session, the batch's last status and last revocation, to its watchers."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from hub.connect import push_store
from hub.connect import store as connections

MAX_MESSAGE_BYTES = 128 * 1024
"""API Gateway's largest WebSocket message payload (128 KB)."""
HANDSHAKE_GRACE_S = 10
"""A connection is recorded by `$connect` before its handshake completes; until then a post answers Gone.
Only a connection older than this is forgotten on Gone (a younger one is retried at the next change)."""


def encode(message: dict[str, Any]) -> bytes:
    data = json.dumps(message, separators=(",", ":"), default=str).encode()
    if len(data) > MAX_MESSAGE_BYTES:
        raise ValueError(f"message of {len(data)} bytes is over API Gateway's {MAX_MESSAGE_BYTES}")
    return data


@dataclass
class Pushed:
    sent: int = 0
    gone: int = 0


def push(latest: dict[tuple[str, bool], dict[str, Any]]) -> Pushed:
    """Posts each message to the connections watching its session; `latest` maps (the session's watch key,
    hub.connect.watching.watch_key; is a revocation) to the message. A revocation goes only to the connections opened with that session's links before it, and
    those are forgotten (the page is told, then the connection is of no use)."""
    pushed = Pushed()
    for (watch_key, revocation), message in latest.items():
        watchers = connections.watching(watch_key)
        if revocation:
            watchers = [w for w in watchers if w.link_kind == "session" and w.connected_at_ms <= message["revokedAt"]]
        if not watchers:
            continue
        data = encode(message)
        for watcher in watchers:
            delivered = push_store.post(watcher.connection_id, data)
            pushed.sent += delivered
            pushed.gone += not delivered
            if revocation or (
                not delivered and time.time() * 1000 - watcher.connected_at_ms > HANDSHAKE_GRACE_S * 1000
            ):
                connections.remove(watcher.connection_id)
    return pushed
