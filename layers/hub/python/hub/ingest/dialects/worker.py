"""worker: Baileys gateway workers (docs/contract.md §6) posting `{"event": name, "data": {...}, "timestamp"?}`.

Same envelope as wwebjs; told apart by event name. `disconnected` and `message` exist in both: they are
the worker's only when `data` has the worker's shape (a Baileys message key / messages list, or a
`disconnected` payload carrying `timestamp`). Raw Baileys events forwarded as `{event, data}`
(connection.update, messages.upsert, messages.update, messages.reaction, presence.update) are read too.
Message status numbering is Baileys' (0 error .. 5 played). No session in the body.
"""

from __future__ import annotations

from typing import Any

from hub.ingest.models import SessionStatus as S

from . import _baileys as B
from ._claims import worker as claims  # noqa: F401 - the dialect interface: `claims(body)`
from ._common import (
    Envelope,
    Handler,
    Loose,
    Parsed,
    Result,
    Stamp,
    check,
    event,
    first,
    invalid,
    parse_time,
    session,
    unknown,
)

NAME = "worker"
SESSION_FIELD = None  # no session in the body: path only


class Env(Envelope):
    event: str
    data: dict[str, Any] | list[Any] | None = None
    timestamp: Stamp = None


class Payload(Loose):
    """Baileys-worker lifecycle payloads (all fields optional, typed)."""

    qrCode: str | None = None
    qr: str | None = None
    attempts: int | None = None
    phoneNumber: str | None = None
    displayName: str | None = None
    reason: str | None = None
    timestamp: Stamp = None
    userId: str | None = None
    sessionName: str | None = None
    status: str | None = None


def _p(data: Any) -> Payload:
    return check(Payload, data if data is not None else {}, "data")


def qr_ready(data: Any) -> Parsed:
    p = _p(data)
    if not first(p.qrCode, p.qr):
        raise invalid("data.qrCode", "Field required")
    return session(S.QR_GENERATED, qr=first(p.qrCode, p.qr), data={"attempts": p.attempts}, at=p.timestamp)


def _status(status: S, default_reason: str | None = None) -> Handler:
    def handler(data: Any) -> Parsed:
        p = _p(data)
        return session(
            status,
            phone=p.phoneNumber,
            display=p.displayName,
            reason=first(p.reason, default_reason),
            data={"userId": p.userId, "sessionName": p.sessionName},
            at=p.timestamp,
        )

    return handler


def _message(data: Any) -> Parsed:
    raw = B.first_message(data)
    at = ("data",) if raw is data else ("data", "messages", 0)
    return B.message_event(check(B.WAMessage, raw, *at), at_prefix=at)


EVENTS: dict[str, Handler] = {
    "qr_ready": qr_ready,
    "connected": _status(S.SESSION_CONNECTED),
    "disconnected": _status(S.SESSION_NOT_CONNECTED),
    "session_logged_out": _status(S.LOGGED_OUT),
    "session_auto_disconnected": _status(S.SESSION_NOT_CONNECTED, "max_qr_attempts_reached"),
    "reconnecting": _status(S.RECONNECTING),
    "session_created": _status(S.INITIALIZING),
    "message": _message,
    "message.any": _message,
    "messages.upsert": _message,
    "messages.update": lambda data: B.update_event(data, "data"),
    "messages.reaction": lambda data: _reaction(data),
    "presence.update": lambda data: B.presence_event(data, "data"),
    "connection.update": lambda data: B.connection_event(data, "data"),
}
"""Its keys are `_claims.WORKER_EVENTS`, the set detection reads without importing this module."""


class Reaction(Loose):
    key: B.Key
    reaction: dict[str, Any]


def _reaction(data: Any) -> Parsed | None:
    """Raw Baileys messages.reaction `[{key: <reacted message>, reaction: {key, text}}]` (first entry)."""
    at: tuple[str | int, ...] = ("data",)
    if isinstance(data, list):
        if not data:
            return None
        data, at = data[0], ("data", 0)
    r = check(Reaction, data, *at)
    text = r.reaction.get("text")
    text = text if isinstance(text, str) else None
    sender = check(B.Key, r.reaction.get("key") or {}, *at, "reaction", "key")
    return event(
        "message.reaction",
        {
            "messageId": r.key.id,
            "chatId": r.key.remoteJid,
            "reaction": text,
            "removed": not text,
            "fromMe": sender.fromMe,
            "from": sender.participant or (None if sender.fromMe else sender.remoteJid),
        },
        at=r.reaction.get("senderTimestampMs"),
    )


def session_id(body: dict[str, Any]) -> str | None:
    return None


def parse(body: dict[str, Any]) -> Result:
    env = check(Env, body)
    handler = EVENTS.get(env.event)
    parsed = handler(env.data) if handler else None
    parsed = parsed if parsed is not None else unknown(body)
    return Result(env.event, parsed, occurred_at=parse_time(env.timestamp) or parsed.occurred_at)
