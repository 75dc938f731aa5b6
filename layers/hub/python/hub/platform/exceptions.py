"""What went wrong, in the domain's words: stores and logic raise these, never an HTTP status.

Stores report what DynamoDB and the other AWS services answered (AlreadyExists, ChangedMeanwhile,
InvalidCursor, Busy); logic reports what a caller did wrong or what cannot be done (Invalid, NotFound,
Conflict, ...). Each carries a machine-readable code and a message; hub.platform.errors is the one
module that turns them into the error envelope and an HTTP status (docs/errors.md lists the mapping).
"""

from __future__ import annotations

from typing import Any, ClassVar


class HubError(Exception):
    """A failure a caller is told about: `code` (machine-readable), `message`, optional field `details`."""

    code: ClassVar[str] = "INTERNAL"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
        retry_after_s: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]  # an instance may name a finer code than its kind's
        self.details = details or []
        self.retry_after_s = retry_after_s
        """When set, how many seconds the caller should wait before trying again."""


# What a store reports.


class StoreError(HubError):
    """What a store reports of the service behind it (DynamoDB, SQS, API Gateway, Secrets Manager)."""


class AlreadyExists(StoreError):
    """An item that must be new exists already (a conditional create failed)."""

    code = "CONFLICT"


class ChangedMeanwhile(StoreError):
    """The item changed (or went) since it was read: a conditional write found it different."""

    code = "CONFLICT"


class InvalidCursor(StoreError):
    """A pagination cursor this listing did not make."""

    code = "VALIDATION_ERROR"


class NoLongerHeld(StoreError):
    """What was asked for is no longer held (stream records trimmed after 24 hours, a deleted stream)."""

    code = "GONE"


class Busy(StoreError):
    """The service refused for now (throttling, a conflicting transaction, an outage): retry later."""

    code = "UNAVAILABLE"


# What logic reports.


class Invalid(HubError):
    """The request cannot be accepted as sent."""

    code = "VALIDATION_ERROR"

    @classmethod
    def field(cls, field: str, message: str, summary: str | None = None) -> Invalid:
        """One field is wrong: `summary` (default `message`) is the error's message, `message` the field's."""
        return cls(summary or message, details=[{"field": field, "message": message}])


class Unauthenticated(HubError):
    """The caller did not prove who it is (missing or wrong key, signature or link)."""

    code = "UNAUTHORIZED"


class Forbidden(HubError):
    """The caller is known but may not do this."""

    code = "FORBIDDEN"


class NotFound(HubError):
    """There is no such thing (or it is another tenant's, which is answered alike)."""

    code = "NOT_FOUND"

    @classmethod
    def of(cls, what: str) -> NotFound:
        return cls(f"{what} not found")


class Conflict(HubError):
    """The request contradicts what is stored (a taken id, a key in use, a concurrent change)."""

    code = "CONFLICT"


class Expired(HubError):
    """It existed and no longer works (an expired or revoked link)."""

    code = "GONE"


class RateLimited(HubError):
    """The caller is over its allowance; `retry_after_s` says when to come back."""

    code = "RATE_LIMITED"


class Unavailable(HubError):
    """It cannot be done now (not configured on this hub, or a dependency refused): retry later."""

    code = "UNAVAILABLE"


class NotConfigured(HubError):
    """The hub is deployed without what this needs: an operator's mistake, not the caller's."""

    code = "NOT_CONFIGURED"
