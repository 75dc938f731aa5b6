"""Sessions' records: what the Sessions table holds of a session, and the rules of its id and status filters."""

from __future__ import annotations

from pydantic import BaseModel, Field

from hub.delivery.subscriptions import Subscription
from hub.ingest import state
from hub.ingest.state import SessionState

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
"""What a session id may be (checked at registration): never longer than DynamoDB's 2048-byte key limit.
A receiver handle matches it too (a generated one, `rcv_…`, or a session id of a release with global ids)."""
STATUS_FILTERS = frozenset(s.value for s in state.SessionStatus) | frozenset(state.BUCKETS)


class SessionRecord(BaseModel):
    sessionId: str
    tenantId: str
    receiverHandle: str
    """Opaque and globally unique: the receiver URL names the session by it."""
    userId: str
    createdAt: str
    updatedAt: str
    inboundSecret: str
    previousInboundSecret: str | None = None
    """The secret before the last rotation, accepted until `previousInboundSecretExpiresAt` (epoch s)."""
    previousInboundSecretExpiresAt: int | None = None
    status: str = state.SessionStatus.INITIALIZING.value
    bucket: str = "loading"
    version: int = 0
    subscriptionsVersion: int = 0
    lastEventAt: str | None = None
    linksRevokedAt: int | None = None
    """Epoch ms: connect links for this session issued up to then are refused (hub.connect.links)."""
    subscriptions: list[Subscription] = Field(default_factory=list)
    state: SessionState = Field(default_factory=SessionState)


class SubscriptionSecrets(BaseModel):
    """What the delivery worker reads of a session to sign with: its incarnation and its subscriptions."""

    tenantId: str
    createdAt: str
    subscriptions: dict[str, Subscription]
    """Subscription id -> the subscription (its current secrets, its state)."""


class HandleTarget(BaseModel):
    """What a receiver handle names."""

    tenantId: str
    sessionId: str
