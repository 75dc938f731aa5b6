"""The hub's one event vocabulary: what every gateway dialect is normalized into."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.sessions import qr as qr_rules


class SessionStatus(str, Enum):
    INITIALIZING = "initializing"
    QR_GENERATED = "qr_generated"
    CONNECTING = "connecting"
    LOADING = "loading"
    AUTHENTICATED = "authenticated"
    SESSION_CONNECTED = "session_connected"
    RECONNECTING = "reconnecting"
    SESSION_NOT_CONNECTED = "session_not_connected"
    LOGGED_OUT = "logged_out"
    AUTH_FAILURE = "auth_failure"
    ERROR = "error"


EventType = Literal[
    "session.status",
    "session.qr",
    "message.received",
    "message.sent",
    "message.updated",
    "message.revoked",
    "message.reaction",
    "group.join",
    "group.leave",
    "group.update",
    "call.received",
    "contact.changed",
    "presence.update",
    "device.event",
    "gateway.unknown",
    "webhook.test",
    "webhook.endpoint_disabled",
]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]


class Lifecycle(BaseModel):
    """What a session-lifecycle event says about the session's state.

    `status` is the status the event moves the session to; the other fields are
    facts the event carries (all optional).
    """

    model_config = ConfigDict(frozen=True)

    status: SessionStatus
    qr: str | None = None
    qr_image: str | None = None
    phone_number: str | None = None
    display_name: str | None = None
    reason: str | None = None
    loading_percent: int | None = Field(default=None, ge=0, le=100)
    message: str | None = None

    @field_validator("qr")
    @classmethod
    def _drawable(cls, value: str | None) -> str | None:
        return value if value is None else qr_rules.check_text(value)


class NormalizedEvent(BaseModel):
    """One gateway event in the hub's vocabulary, before state is applied.

    `data` is the outbound `data` object (docs/contract.md §7) for every type but the
    session ones, whose data is completed once the state transition is known.
    """

    model_config = ConfigDict(frozen=True)

    type: EventType
    session_id: str
    dialect: str
    source_event: str
    occurred_at: datetime | None = None
    gateway_event_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    lifecycle: Lifecycle | None = None
