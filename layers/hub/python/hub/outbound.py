"""The outbound event envelope (docs/contract.md §7) and the ids that keep it stable across retries."""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel


class Source(BaseModel):
    dialect: str
    event: str


class OutboundEvent(BaseModel):
    id: str
    event: str
    instanceId: str
    timestamp: str
    data: dict[str, Any]
    source: Source


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def event_key(dialect: str, gateway_event_id: str | None, raw_body: bytes) -> str:
    """The dedupe key of an inbound event within its session: the gateway's id, else a body hash."""
    if gateway_event_id:
        return f"id#{dialect}#{gateway_event_id}"
    return f"body#{dialect}#{hashlib.sha256(raw_body).hexdigest()}"


def event_id(session_id: str, key: str) -> str:
    return "evt_" + _digest(session_id, key)[:26]


def webhook_id(event_id_: str, subscription_id: str) -> str:
    return "wh_" + _digest(event_id_, subscription_id)[:26]
