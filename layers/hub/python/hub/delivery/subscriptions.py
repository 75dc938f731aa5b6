"""Subscriptions: where a session's events are delivered, and which events each takes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from hub.delivery import signing
from hub.ingest.models import EVENT_TYPES
from hub.platform import catalog

DEFAULT_SUBSCRIPTION_ID = "default"
MIN_RETRY_DELAY_MS = 1000
"""Shortest base delay: a retry never follows a failed attempt sooner than 1 second."""
MAX_RETRY_DELAY_MS = 12 * 3600 * 1000
"""Longest wait before one retry (12 hours): longer base delays are refused, longer doublings capped."""


SigningSecret = Annotated[str, Field(min_length=16, max_length=256), AfterValidator(signing.check_secret)]
"""A subscription secret given by a caller (hub.delivery.signing.check_secret)."""


DEFAULT_ROTATION_OVERLAP_S = 24 * 3600
"""How long a rotated-out secret still signs deliveries, unless the rotation asks otherwise."""
MAX_ROTATION_OVERLAP_S = 7 * 24 * 3600
"""Longest overlap a rotation may ask for (0: the old secret stops signing at once)."""


class RetryPolicy(BaseModel):
    """A subscription's retry policy as stored (policies stored before the 1-second minimum may hold less)."""

    model_config = ConfigDict(extra="forbid")

    attempts: int | None = Field(
        default=None, ge=0, le=catalog.MAX_RETRY_ATTEMPTS, description="Retries after the first attempt"
    )
    delayMs: int | None = Field(
        default=None, ge=0, le=MAX_RETRY_DELAY_MS, description="Base delay; attempt n waits delayMs * 2**(n-1)"
    )


class RetryPolicyInput(RetryPolicy):
    """A retry policy as a caller sets it: 0 to 10 retries, a base delay of 1 s to 12 h."""

    delayMs: int | None = Field(
        default=None,
        ge=MIN_RETRY_DELAY_MS,
        le=MAX_RETRY_DELAY_MS,
        description="Base delay in ms, 1000 (1 s) to 43200000 (12 h); retry n waits delayMs * 2**(n-1), at most 12 h",
    )


def validate_event_filter(patterns: list[str]) -> list[str]:
    """Exact event types or prefixes like `message.*`; `*` takes everything."""
    families = {t.split(".")[0] for t in EVENT_TYPES}
    for pattern in patterns:
        if pattern == "*":
            continue
        if pattern.endswith(".*"):
            if pattern[:-2] not in families:
                raise ValueError(f"unknown event family {pattern!r}")
        elif pattern not in EVENT_TYPES:
            raise ValueError(f"unknown event type {pattern!r}")
    return patterns


class Subscription(BaseModel):
    """One endpoint: where events go, which ones, how they are retried, and the secret that signs them.

    A session's subscriptions live on its item (hub.sessions.store), a tenant's tenant-wide ones on its tenant
    record (hub.tenants.store): both are read on the per-event path already, so fan-out costs no extra read.
    Items stored before this resource existed carry no description, dates or enabled flag (enabled then).
    """

    id: str = DEFAULT_SUBSCRIPTION_ID
    url: str
    secret: str
    events: list[str] = Field(default_factory=list)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    description: str | None = None
    enabled: bool = True
    disabledReason: str | None = None
    disabledAt: str | None = None
    createdAt: str | None = None
    updatedAt: str | None = None
    previousSecret: str | None = None
    """The secret a rotation replaced: deliveries carry its signature too until `previousSecretExpiresAt`."""
    previousSecretExpiresAt: str | None = None

    @field_validator("events")
    @classmethod
    def _known_events(cls, patterns: list[str]) -> list[str]:
        return validate_event_filter(patterns)

    def wants(self, event_type: str) -> bool:
        if not self.enabled:
            return False
        if not self.events:
            return True
        return any(
            pattern == "*" or pattern == event_type or (pattern.endswith(".*") and event_type.startswith(pattern[:-1]))
            for pattern in self.events
        )

    def public(self) -> dict:
        """The subscription as responses show it: never a secret."""
        return self.model_dump(exclude={"secret", "previousSecret"})

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets a delivery made at `now` is signed with, newest first: the current one, and the one a
        rotation replaced while its overlap lasts."""
        if (
            self.previousSecret
            and self.previousSecretExpiresAt
            and datetime.fromisoformat(self.previousSecretExpiresAt.replace("Z", "+00:00")) > now
        ):
            return [self.secret, self.previousSecret]
        return [self.secret]

    def target(self, session_created_at: str, tenant_wide: bool = False) -> Target:
        return Target(
            subscriptionId=self.id,
            url=self.url,
            sessionCreatedAt=session_created_at,
            retry=self.retry,
            tenantWide=True if tenant_wide else None,
        )


class Target(BaseModel):
    """A subscription as it was when an event was recorded: where and how to deliver that event.

    Never its secret: the secret stays on the subscription (the session item) and the delivery worker
    looks the current one up at send time (hub.delivery.secrets), by the delivery's session, tenant,
    `subscriptionId` and `sessionCreatedAt` (the session incarnation: a session id registered again
    after a deletion is another subscription). Targets stored before this carried a `secret`; it is ignored.
    """

    subscriptionId: str
    url: str
    sessionCreatedAt: str | None = None
    """None only on targets stored before secrets were looked up at send time (any incarnation matches)."""
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    tenantWide: bool | None = None
    """True for a tenant-wide subscription (its secret is on the tenant record); absent for a session's."""
