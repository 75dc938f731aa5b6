"""A delivery's payload, stored once: in its event's record (hub.ingest.store), not in its log."""

from __future__ import annotations

from hub.delivery.models import DeliveryLog
from hub.ingest import store as event_store


def with_payload(log: DeliveryLog) -> DeliveryLog:
    """The log with its payload read from the event's record; `payload` stays None when the record no longer
    holds it (past the log retention, the session purged, or its key recorded again after the dedupe window)."""
    if log.payload is not None or not log.eventKey:
        return log
    return log.model_copy(
        update={"payload": event_store.payload_of(log.tenantId, log.instanceId, log.eventKey, log.eventId)}
    )
