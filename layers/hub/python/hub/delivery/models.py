"""Delivery logs (`webhookId`, docs/contract.md §8): the model shared by the receiver, the worker and the API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from hub.delivery.subscriptions import Target

DeliveryStatus = Literal["pending", "retrying", "success", "failed"]
RESPONSE_EXCERPT_BYTES = 1024


class Attempt(BaseModel):
    attempt: int
    at: str
    statusCode: int | None = None
    durationMs: int
    ok: bool
    error: str | None = None
    response: str | None = None


class DeliveryLog(BaseModel):
    webhookId: str
    tenantId: str
    instanceId: str
    eventId: str
    event: str
    eventKey: str | None = None
    """The key (with `instanceId`) of the event's record (hub.ingest.store), which stores the payload."""
    payload: str | None = None
    """The body sent. Carried whole in a first attempt's queue message; the stored log leaves it out (the event's
    record keeps it as long as the log lives) and it is read back from there when needed (hub.delivery.payloads).
    None on a log read from the table, until then."""
    target: Target
    status: DeliveryStatus = "pending"
    attempts: int = 0
    retryFrom: int = 0
    """Attempts made before the last manual retry: the retry budget counts from here."""
    attemptLog: list[Attempt] = Field(default_factory=list)
    nextAttemptAt: str | None = None
    lastError: str | None = None
    createdAt: str
    updatedAt: str
    expiresAt: int

    def public(self, with_attempts: bool = True) -> dict[str, Any]:
        """The log as the API shows it (docs/contract.md §2), never the secret."""
        shown: dict[str, Any] = {
            "webhookId": self.webhookId,
            "instanceId": self.instanceId,
            "eventId": self.eventId,
            "event": self.event,
            "url": self.target.url,
            "subscriptionId": self.target.subscriptionId,
            "status": self.status,
            "attempts": self.attempts,
            "statusCode": self.attemptLog[-1].statusCode if self.attemptLog else None,
            "error": self.lastError or (self.attemptLog[-1].error if self.attemptLog else None),
            "nextAttemptAt": self.nextAttemptAt,
            "createdAt": self.createdAt,
            "updatedAt": self.updatedAt,
        }
        if with_attempts:
            shown["payload"] = json.loads(self.payload) if self.payload is not None else None
            shown["attemptLog"] = [a.model_dump() for a in self.attemptLog]
        return shown


class RecoveryPage(BaseModel):
    """One page of a recovery to work on (its number: a redelivered copy of a page already done does nothing)."""

    tenantId: str
    recoveryId: str
    page: int


class DeliveryMessage(BaseModel):
    """What the delivery queue carries: the delivery to work on.

    A first attempt queued by the dispatcher carries the whole delivery (`first`), so the
    worker sends it without reading its log, which the attempt then creates. Retries, manual
    retries and redelivered copies carry just the id: the log holds everything else.
    """

    webhookId: str
    first: DeliveryLog | None = None
    recovery: RecoveryPage | None = None
    """Set on a recovery's page message (hub.delivery.recovery): no delivery, a page of re-sends to queue."""


@dataclass(frozen=True)
class Breaker:
    """An endpoint's circuit breaker as the Endpoints table holds it (hub.delivery.fairness)."""

    strikes: int = 0
    window_start: int = 0
    open_until: int | None = None
    """Epoch seconds; set when the breaker has tripped (open before it, half-open after)."""


CLOSED = Breaker()


@dataclass
class Sweep:
    """What one pass over a tenant's (or one instance's) delivery logs deleted or cancelled (hub.delivery.store.sweep)."""

    deleted: int = 0
    cancelled: int = 0
    complete: bool = False


class Recovery(BaseModel):
    """A recovery (hub.delivery.recovery): a subscription's failed deliveries re-sent since a time, and how far it got."""

    recoveryId: str
    tenantId: str
    sessionId: str | None
    sessionCreatedAt: str | None = None
    subscriptionId: str
    since: str
    until: str
    status: str = "queued"
    """queued, running, done (every failed delivery found was re-queued) or stopped (the count limit was reached)."""
    scanned: int = 0
    resent: int = 0
    cursor: str | None = None
    """Where the next page starts (the listing's cursor)."""
    page: int = 0
    """Pages done: a page message carries the number it works on, so a redelivered copy does nothing."""
    createdAt: str
    updatedAt: str
    expiresAt: int
