"""The error envelope of docs/contract.md §3: every failure a client sees is an ApiError.

This is the one module that turns the domain exceptions (hub.platform.exceptions) into an HTTP status and
the envelope (`from_exception`, table STATUS; docs/errors.md); the HTTP plumbing (hub.platform.http) also
builds its own refusals (body too large, not JSON, unknown route) here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hub.platform import exceptions


class ApiError(Exception):
    """A failure with an HTTP status, a machine-readable code and a human message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        retry_after_s: int | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.retry_after_s = retry_after_s
        """Sent as the `Retry-After` header (seconds) when set."""

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)} if self.retry_after_s is not None else {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"success": False, "error": error}


STATUS: dict[type[exceptions.HubError], int] = {
    exceptions.Invalid: 400,
    exceptions.InvalidCursor: 400,
    exceptions.Unauthenticated: 401,
    exceptions.Forbidden: 403,
    exceptions.NotFound: 404,
    exceptions.AlreadyExists: 409,
    exceptions.ChangedMeanwhile: 409,
    exceptions.Conflict: 409,
    exceptions.Expired: 410,
    exceptions.NoLongerHeld: 410,
    exceptions.RateLimited: 429,
    exceptions.NotConfigured: 500,
    exceptions.Busy: 503,
    exceptions.Unavailable: 503,
}
"""The HTTP status of each domain exception (a subclass answers as its nearest listed ancestor)."""


def status_of(error: exceptions.HubError) -> int:
    return next((STATUS[kind] for kind in type(error).__mro__ if kind in STATUS), 500)


def from_exception(error: exceptions.HubError) -> ApiError:
    """The envelope and status a caller gets for a domain exception."""
    return ApiError(status_of(error), error.code, error.message, error.details, error.retry_after_s)


def validation_error(message: str, details: list[dict[str, Any]] | None = None) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", message, details)


def invalid_json(message: str = "Request body is not valid JSON") -> ApiError:
    return ApiError(400, "INVALID_JSON", message)


def not_found(what: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", f"{what} not found")


def payload_too_large(limit: int) -> ApiError:
    return ApiError(413, "PAYLOAD_TOO_LARGE", f"Request body exceeds {limit} bytes")


def unsupported_media_type() -> ApiError:
    return ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json")


def unavailable(message: str = "Temporarily unavailable, retry later") -> ApiError:
    return ApiError(503, "UNAVAILABLE", message)


def pydantic_details(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Turns pydantic error dicts into `{field, message, type}` entries."""
    return [
        {
            "field": ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body",
            "message": error.get("msg", "invalid"),
            "type": error.get("type", "invalid"),
        }
        for error in errors
    ]
