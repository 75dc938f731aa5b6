"""The error envelope of docs/contract.md §3: every failure a client sees is an ApiError."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


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


def validation_error(message: str, details: list[dict[str, Any]] | None = None) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", message, details)


def invalid_json(message: str = "Request body is not valid JSON") -> ApiError:
    return ApiError(400, "INVALID_JSON", message)


def unauthorized(message: str = "Missing or invalid API key") -> ApiError:
    return ApiError(401, "UNAUTHORIZED", message)


def invalid_signature(message: str = "Missing or invalid webhook signature") -> ApiError:
    return ApiError(401, "INVALID_SIGNATURE", message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "FORBIDDEN", message)


def not_found(what: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", f"{what} not found")


def conflict(message: str) -> ApiError:
    return ApiError(409, "CONFLICT", message)


def payload_too_large(limit: int) -> ApiError:
    return ApiError(413, "PAYLOAD_TOO_LARGE", f"Request body exceeds {limit} bytes")


def unsupported_media_type() -> ApiError:
    return ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json")


def rate_limited(message: str, retry_after_s: int) -> ApiError:
    return ApiError(429, "RATE_LIMITED", message, retry_after_s=retry_after_s)


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
