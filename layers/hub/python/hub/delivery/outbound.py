"""The outbound event envelope (docs/contract.md §7) and the keys and ids that tell occurrences from retries."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from hub.ingest.models import NormalizedEvent


class Source(BaseModel):
    dialect: str
    event: str


SCHEMA_VERSION = "1"
"""The envelope's schema version (docs/contract.md §7): a change a subscriber's parser could trip over
(a field removed, renamed or retyped) comes with a new version; new fields and event types do not."""


class OutboundEvent(BaseModel):
    id: str
    event: str
    schemaVersion: str = SCHEMA_VERSION
    instanceId: str
    timestamp: str
    data: dict[str, Any]
    source: Source


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) else None


def gateway_key(event: NormalizedEvent) -> str | None:
    """The occurrence key the gateway's own ids give, or None for a body that carries none.

    Message ids come first (the same message re-posted under a fresh envelope is one occurrence),
    acks are keyed by message id and status, reactions by the reaction message's id, calls by
    call id and status; then the dialect's own event id (WAHA `id`).
    """
    data = event.data
    message_id = _text(data.get("messageId"))
    if message_id and event.type in ("message.received", "message.sent", "message.revoked"):
        return f"msg#{event.type}#{message_id}"
    if message_id and event.type == "message.updated" and _text(data.get("status")):
        return f"ack#{message_id}#{data['status']}"
    if event.type == "message.reaction" and _text(data.get("reactionId")):
        return f"reaction#{data['reactionId']}"
    if event.type == "call.received" and _text(data.get("callId")):
        return f"call#{data['callId']}#{_text(data.get('status')) or ''}"
    if event.gateway_event_id:
        return f"id#{event.dialect}#{event.gateway_event_id}"
    return None


def body_key(dialect: str, raw_body: bytes) -> str:
    """What identifies an id-less body: its dialect and a hash of its bytes (not an occurrence by itself)."""
    return f"body#{dialect}#{hashlib.sha256(raw_body).hexdigest()}"


def occurrence_key(event: NormalizedEvent, raw_body: bytes, last_key: str, last_occurrence: str) -> str:
    """The dedupe key of one occurrence of `event` within its session.

    With a gateway id, that id (gateway_key). An id-less body is the same occurrence only while the
    session has not moved on: its key is the body's hash plus the session's newest lifecycle event at
    receipt (`last_key`), so the same body after a status change is a new occurrence. A retry of an
    id-less lifecycle body that became the session's newest event is recognized from the session's
    `last_occurrence` (the key of that newest event).
    """
    found = gateway_key(event)
    if found:
        return found
    body = body_key(event.dialect, raw_body)
    if event.lifecycle is not None and last_occurrence.startswith(body + "@"):
        return last_occurrence
    return f"{body}@{last_key}"


MAX_KEY_BYTES = 512
"""Longest event key stored as is: DynamoDB refuses sort keys over 1024 bytes, and gateway ids are unbounded."""


def scoped_key(tenant_id: str, created_at: str, occurrence: str) -> str:
    """The Events table's sort key of an occurrence: scoped to the tenant's session incarnation (tenant id and
    session creation time); an occurrence key too long to store is replaced by its hash."""
    key = f"{tenant_id}#{created_at}#{occurrence}"
    if len(key.encode("utf-8")) <= MAX_KEY_BYTES:
        return key
    return f"{tenant_id}#{created_at}#sha256#{hashlib.sha256(occurrence.encode('utf-8')).hexdigest()}"


def event_id(tenant_id: str, session_id: str, scoped_key: str, recorded_at: str) -> str:
    """An occurrence's id: unique (it includes the moment it was first recorded), kept by its retries
    (they get the stored id back)."""
    return "evt_" + _digest(tenant_id, session_id, scoped_key, recorded_at)[:26]


WEBHOOK_DIGEST_CHARS = 26


@dataclass(frozen=True)
class LogLocation:
    """Where a delivery's log is stored (hub.delivery.store keys it by these), read back from its webhook id."""

    tenant_id: str
    instance_id: str
    created_at: str
    digest: str


def webhook_id(event_id_: str, subscription_id: str, tenant_id: str, instance_id: str, created_at: str) -> str:
    """A delivery's id: the same for every dispatch of the event to the subscription (a digest of both), and
    opaque to clients, though it carries where its log is stored (tenant, instance, creation time), so the log
    is found from the id alone with no lookup item."""
    return located_webhook_id(
        LogLocation(tenant_id, instance_id, created_at, _digest(event_id_, subscription_id)[:WEBHOOK_DIGEST_CHARS])
    )


def located_webhook_id(where: LogLocation) -> str:
    # A space is in none of the parts (tenant ids, session ids (hub.sessions.store.ID_PATTERN), ISO times).
    text = f"{where.tenant_id} {where.created_at} {where.instance_id}".encode()
    return f"wh_{where.digest}_{base64.urlsafe_b64encode(text).decode().rstrip('=')}"


def locate(webhook_id_: str) -> LogLocation | None:
    """Where the log of a webhook id is stored; None for an id this release did not make (or not an id at all)."""
    prefix, digest, rest = (
        webhook_id_[:3],
        webhook_id_[3 : 3 + WEBHOOK_DIGEST_CHARS],
        webhook_id_[4 + WEBHOOK_DIGEST_CHARS :],
    )
    if (
        prefix != "wh_"
        or len(digest) != WEBHOOK_DIGEST_CHARS
        or webhook_id_[3 + WEBHOOK_DIGEST_CHARS : 4 + WEBHOOK_DIGEST_CHARS] != "_"
    ):
        return None
    try:
        parts = base64.urlsafe_b64decode(rest + "=" * (-len(rest) % 4)).decode().split(" ")
    except (ValueError, UnicodeDecodeError):
        return None
    if len(parts) != 3 or not all(parts):
        return None
    tenant_id, created_at, instance_id = parts
    return LogLocation(tenant_id, instance_id, created_at, digest)
