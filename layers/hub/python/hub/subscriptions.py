"""Subscriptions: where a session's events are delivered, and which events each takes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub import catalog
from hub.events import EVENT_TYPES

DEFAULT_SUBSCRIPTION_ID = "default"
MAX_RETRY_DELAY_MS = 12 * 3600 * 1000
"""SQS visibility timeouts stop at 12 hours."""


class RetryPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attempts: int | None = Field(default=None, ge=0, le=catalog.MAX_RETRY_ATTEMPTS, description="Retries after the first attempt")
    delayMs: int | None = Field(default=None, ge=0, le=MAX_RETRY_DELAY_MS, description="Base delay; attempt n waits delayMs * 2**(n-1)")


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
    id: str = DEFAULT_SUBSCRIPTION_ID
    url: str
    secret: str
    events: list[str] = Field(default_factory=list)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)

    @field_validator("events")
    @classmethod
    def _known_events(cls, patterns: list[str]) -> list[str]:
        return validate_event_filter(patterns)

    def wants(self, event_type: str) -> bool:
        if not self.events:
            return True
        return any(
            pattern == "*" or pattern == event_type or (pattern.endswith(".*") and event_type.startswith(pattern[:-1]))
            for pattern in self.events
        )

    def public(self) -> dict:
        """The subscription as responses show it: never the secret."""
        return self.model_dump(exclude={"secret"})

    def target(self) -> "Target":
        return Target(subscriptionId=self.id, url=self.url, secret=self.secret, retry=self.retry)


class Target(BaseModel):
    """A subscription as it was when an event was recorded: where and how to deliver that event."""

    subscriptionId: str
    url: str
    secret: str
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
