"""Events' records: what the Events table keeps of an accepted event (hub.ingest.store)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from hub.delivery.subscriptions import Target


class EventRecord(BaseModel):
    """What is kept of an accepted event: its outbound payload and the subscriptions it goes to."""

    eventId: str
    event: str
    tenantId: str
    receivedAt: str
    orderKey: str | None = None
    """A lifecycle event's place in the session's event order (hub.ingest.state.order_key), as first received."""
    payload: str
    targets: list[Target] = Field(default_factory=list)


class StoredEvent(EventRecord):
    sessionId: str
    eventKey: str
