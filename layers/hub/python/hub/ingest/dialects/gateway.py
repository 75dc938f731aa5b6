"""gateway: the "WhatsApp Gateway API" (docs/contract.md §6), `{"event", "instanceId", "timestamp", "data"}`.

Its events already use the hub's names (session.status, message.received, message.sent, message.updated);
message data is passed through as sent. `data.status` of session.status uses the gateway's words
(qr, connecting, connected, disconnected) or the hub's status names.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from hub.ingest.models import SessionStatus as S

from ._claims import gateway as claims  # noqa: F401 - the dialect interface: `claims(body)`
from ._common import (
    WWEB_ACK,
    Envelope,
    Handler,
    Loose,
    Parsed,
    Result,
    Stamp,
    ack_status,
    check,
    event,
    first,
    invalid,
    parse_time,
    session,
    unknown,
)

NAME = "gateway"
SESSION_FIELD = "instanceId"


class Env(Envelope):
    event: str
    instanceId: str
    timestamp: Stamp = None
    data: dict[str, Any] | None = None


STATUSES: dict[str, S] = {
    **{s.value: s for s in S},
    "qr": S.QR_GENERATED,
    "connecting": S.CONNECTING,
    "connected": S.SESSION_CONNECTED,
    "open": S.SESSION_CONNECTED,
    "ready": S.SESSION_CONNECTED,
    "disconnected": S.SESSION_NOT_CONNECTED,
    "close": S.SESSION_NOT_CONNECTED,
    "closed": S.SESSION_NOT_CONNECTED,
    "logout": S.LOGGED_OUT,
    "failed": S.ERROR,
}


class Status(Loose):
    status: str
    qr: str | None = None
    qrCode: str | None = None
    phoneNumber: str | None = None
    displayName: str | None = None
    reason: str | None = None
    message: str | None = None


def session_status(data: dict[str, Any]) -> Parsed | None:
    st = check(Status, data, "data")
    status = STATUSES.get(st.status.strip().lower())
    if status is None:
        return None
    return session(
        status,
        qr=first(st.qr, st.qrCode),
        phone=st.phoneNumber,
        display=st.displayName,
        reason=st.reason,
        message=st.message,
        data={"gatewayStatus": st.status},
    )


class MessageData(Loose):
    messageId: str | None = None
    chatId: str | None = None
    from_: str | None = Field(None, alias="from")
    body: str | None = None
    type: str | None = None
    timestamp: Stamp = None
    fromMe: bool | None = None


def _message(type_: str) -> Handler:
    def handler(data: dict[str, Any]) -> Parsed:
        m = check(MessageData, data, "data")
        return event(type_, data, at=m.timestamp)

    return handler


class Update(Loose):
    messageId: str
    status: str | int | None = None
    ack: int | str | None = None


def message_updated(data: dict[str, Any]) -> Parsed | None:
    u = check(Update, data, "data")
    raw = first(u.status, u.ack)
    if raw is None:
        raise invalid("data.status", "Field required")
    status = ack_status(raw, WWEB_ACK)
    if status is None:
        return None
    return event("message.updated", {**data, "status": status, "ack": first(u.ack, u.status)})


EVENTS: dict[str, Handler] = {
    "session.status": session_status,
    "message.received": _message("message.received"),
    "message.sent": _message("message.sent"),
    "message.updated": message_updated,
}


def session_id(body: dict[str, Any]) -> str | None:
    value = body.get("instanceId")
    return value if isinstance(value, str) else None


def parse(body: dict[str, Any]) -> Result:
    env = check(Env, body)
    handler = EVENTS.get(env.event)
    parsed = handler(env.data or {}) if handler else None
    parsed = parsed if parsed is not None else unknown(body)
    return Result(env.event, parsed, occurred_at=parse_time(env.timestamp) or parsed.occurred_at)
