"""wwebjs: whatsapp-web.js servers posting `{"event": name, "data": {...}, "timestamp"?}` (docs/contract.md §6).

The session is not in the body: these servers post to /api/whatsapp/webhook/{sessionId}.
The event handlers here follow whatsapp-web.js semantics and are reused by the wwebjs-api dialect.
Data shapes differ between servers: some wrap objects (`data.message`, `data.call`), others post
the object itself as `data`; both are read. Acks follow whatsapp-web.js numbering (-1..4) (docs/contract.md §6.3).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from hub.ingest.models import SessionStatus as S

from ._claims import wwebjs as claims  # noqa: F401 - the dialect interface: `claims(body)`
from ._common import (
    WWEB_ACK,
    Envelope,
    Handler,
    Loose,
    NoDialectMatched,
    Parsed,
    Result,
    Stamp,
    ack_status,
    chat_of_serialized,
    check,
    event,
    first,
    invalid,
    iso,
    message_type,
    parse_time,
    session,
    unknown,
)

NAME = "wwebjs"
SESSION_FIELD = None  # no session in the body: path only


class Env(Envelope):
    event: str
    data: dict[str, Any] | None = None
    timestamp: Stamp = None


# --------------------------------------------------------------------------- whatsapp-web.js objects


class MsgId(Loose):
    serialized: str | None = Field(None, alias="_serialized")
    id: str | None = None
    remote: str | None = None
    fromMe: bool | None = None
    participant: str | None = None


def msg_id(value: MsgId | str | None) -> str | None:
    """`_serialized` id, rebuilt as `fromMe_remote_id[_participant]` when WA Web minified it away."""
    if value is None or isinstance(value, str):
        return value or None
    if value.serialized:
        return value.serialized
    if value.remote and value.id:
        parts = ["true" if value.fromMe else "false", value.remote, value.id]
        return "_".join(parts + ([value.participant] if value.participant else []))
    return value.id


class Message(Loose):
    id: MsgId | str | None = None
    body: str | None = None
    type: str | None = None
    timestamp: Stamp = None
    from_: str | None = Field(None, alias="from")
    to: str | None = None
    author: str | None = None
    fromMe: bool | None = None
    hasMedia: bool | None = None
    ack: int | str | None = None


def _message_of(data: dict[str, Any]) -> tuple[Any, tuple[str, ...]]:
    """(message object, its path): `data.message` (wrapping servers, wwebjs-api) or `data` itself."""
    if isinstance(data.get("message"), dict):
        return data["message"], ("data", "message")
    return data, ("data",)


def message_data(m: Message) -> dict[str, Any]:
    from_me = m.fromMe if m.fromMe is not None else (m.id.fromMe if isinstance(m.id, MsgId) else None)
    chat = first(
        m.id.remote if isinstance(m.id, MsgId) else None, chat_of_serialized(msg_id(m.id)), m.to if from_me else m.from_
    )
    return {
        "messageId": msg_id(m.id),
        "chatId": chat,
        "from": m.from_,
        "to": m.to,
        "author": m.author,
        "fromMe": from_me,
        "body": m.body,
        "type": message_type(m.type),
        "hasMedia": m.hasMedia,
        "timestamp": iso(m.timestamp),
    }


# --------------------------------------------------------------------------- handlers: lifecycle


class Qr(Loose):
    qr: str


def qr(data: dict[str, Any]) -> Parsed:
    return session(S.QR_GENERATED, qr=check(Qr, data, "data").qr)


class AuthFailure(Loose):
    msg: str | None = None
    message: str | None = None


def auth_failure(data: dict[str, Any]) -> Parsed:
    a = check(AuthFailure, data, "data")
    text = first(a.msg, a.message)
    return session(S.AUTH_FAILURE, reason=text, message=text)


class Info(Loose):
    pushname: str | None = None
    wid: MsgId | str | None = None
    me: MsgId | str | None = None


class Ready(Loose):
    info: Info | None = None


def ready(data: dict[str, Any]) -> Parsed:
    info = check(Ready, data, "data").info or Info()
    wid = first(info.wid, info.me)
    phone = wid if isinstance(wid, str) else (first(wid.serialized, wid.id) if wid else None)
    return session(S.SESSION_CONNECTED, phone=phone, display=info.pushname)


def authenticated(data: dict[str, Any]) -> Parsed:
    return session(S.AUTHENTICATED)


WA_STATES: dict[str, S] = {
    "CONNECTED": S.SESSION_CONNECTED,
    "CONNECTING": S.CONNECTING,
    "OPENING": S.RECONNECTING,
    "PAIRING": S.RECONNECTING,
    "TIMEOUT": S.RECONNECTING,
    "CONFLICT": S.ERROR,
    "DEPRECATED_VERSION": S.ERROR,
    "PROXYBLOCK": S.ERROR,
    "SMB_TOS_BLOCK": S.ERROR,
    "TOS_BLOCK": S.ERROR,
    "UNPAIRED": S.LOGGED_OUT,
    "UNPAIRED_IDLE": S.LOGGED_OUT,
    "LOGOUT": S.LOGGED_OUT,
    "UNLAUNCHED": S.SESSION_NOT_CONNECTED,
    "DISCONNECTED": S.SESSION_NOT_CONNECTED,
}
"""whatsapp-web.js WAState (change_state.state, disconnected.reason) -> status; some servers send lower case."""

MAX_QR_REASONS = {"MAX QRCODE RETRIES REACHED", "MAX_QR_ATTEMPTS_REACHED"}


class State(Loose):
    state: str


def change_state(data: dict[str, Any]) -> Parsed | None:
    state = check(State, data, "data").state
    status = WA_STATES.get(state.strip().upper())
    return None if status is None else session(status, data={"state": state})


class Disconnected(Loose):
    reason: str | None = None


def disconnected(data: dict[str, Any]) -> Parsed:
    reason = check(Disconnected, data, "data").reason
    key = (reason or "").strip().upper()
    if key in MAX_QR_REASONS:
        return session(S.SESSION_NOT_CONNECTED, reason="max_qr_attempts_reached", message=reason)
    status = WA_STATES.get(key, S.SESSION_NOT_CONNECTED)
    if status not in (S.LOGGED_OUT, S.ERROR):
        status = S.SESSION_NOT_CONNECTED
    return session(status, reason=reason)


class Loading(Loose):
    percent: int | float | None = None
    message: str | None = None


def loading_screen(data: dict[str, Any]) -> Parsed:
    load = check(Loading, data, "data")
    return session(S.LOADING, percent=load.percent, message=load.message, data={"percent": load.percent})


# --------------------------------------------------------------------------- handlers: messages


def message(data: dict[str, Any]) -> Parsed:
    raw, at = _message_of(data)
    m = check(Message, raw, *at)
    out = message_data(m)
    out["fromMe"] = bool(out["fromMe"])
    return event("message.sent" if out["fromMe"] else "message.received", out, at=m.timestamp)


class Ack(Loose):
    ack: int | str | None = None


def message_ack(data: dict[str, Any]) -> Parsed | None:
    raw, at = _message_of(data)
    m = check(Message, raw, *at)
    value = first(check(Ack, data, "data").ack, m.ack)
    if msg_id(m.id) is None:
        raise invalid(".".join((*at, "id")), "Field required: the acknowledged message's id")
    if value is None:
        raise invalid("data.ack", "Field required")
    status = ack_status(value, WWEB_ACK)
    if status is None:
        return None
    out = message_data(m)
    return event(
        "message.updated",
        {
            "messageId": out["messageId"],
            "status": status,
            "ack": value,
            "chatId": out["chatId"],
            "from": out["from"],
            "to": out["to"],
            "fromMe": out["fromMe"],
        },
    )


class Revoke(Loose):
    revokedBy: str | None = None


def _revoke(data: dict[str, Any], for_everyone: bool) -> Parsed:
    raw, at = _message_of(data)
    m = check(Message, raw, *at)
    out = message_data(m)
    by = check(Revoke, data, "data").revokedBy
    return event(
        "message.revoked",
        {
            "messageId": out["messageId"],
            "chatId": out["chatId"],
            "from": out["from"],
            "to": out["to"],
            "fromMe": out["fromMe"],
            "revokedBy": by,
            "forEveryone": for_everyone,
            "timestamp": out["timestamp"],
        },
        at=m.timestamp,
    )


def message_revoke_everyone(data: dict[str, Any]) -> Parsed:
    return _revoke(data, True)


def message_revoke_me(data: dict[str, Any]) -> Parsed:
    return _revoke(data, False)


class Reaction(Loose):
    id: MsgId | str | None = None
    msgId: MsgId | str | None = None
    reaction: str | None = None
    senderId: str | None = None
    timestamp: Stamp = None


def message_reaction(data: dict[str, Any]) -> Parsed:
    wrapped = isinstance(data.get("reaction"), dict)
    r = check(Reaction, data["reaction"] if wrapped else data, *(("data", "reaction") if wrapped else ("data",)))
    chat = r.msgId.remote if isinstance(r.msgId, MsgId) else None
    return event(
        "message.reaction",
        {
            "messageId": msg_id(r.msgId),
            "reactionId": msg_id(r.id),
            "reaction": r.reaction,
            "removed": not r.reaction,
            "from": r.senderId,
            "chatId": chat,
            "timestamp": iso(r.timestamp),
        },
        at=r.timestamp,
    )


class Notification(Loose):
    id: MsgId | str | None = None
    chatId: str | None = None
    author: str | None = None
    type: str | None = None
    body: str | None = None
    recipientIds: list[str] | None = None
    participants: list[str] | None = None
    subject: str | None = None
    description: str | None = None
    timestamp: Stamp = None


def _group(type_: str) -> Handler:
    def handler(data: dict[str, Any]) -> Parsed:
        wrapped = isinstance(data.get("notification"), dict)
        n = check(
            Notification,
            data["notification"] if wrapped else data,
            *(("data", "notification") if wrapped else ("data",)),
        )
        chat = first(n.chatId, n.id.remote if isinstance(n.id, MsgId) else None)
        return event(
            type_,
            {
                "chatId": chat,
                "author": n.author,
                "action": n.type,
                "participants": first(n.recipientIds, n.participants),
                "subject": n.subject,
                "description": n.description,
                "body": n.body or None,
                "timestamp": iso(n.timestamp),
            },
            at=n.timestamp,
        )

    return handler


class Call(Loose):
    id: str | None = None
    from_: str | None = Field(None, alias="from")
    timestamp: Stamp = None
    isVideo: bool | None = None
    isGroup: bool | None = None


def call(data: dict[str, Any]) -> Parsed:
    wrapped = isinstance(data.get("call"), dict)
    c = check(Call, data["call"] if wrapped else data, *(("data", "call") if wrapped else ("data",)))
    return event(
        "call.received",
        {
            "callId": c.id,
            "from": c.from_,
            "isVideo": c.isVideo,
            "isGroup": c.isGroup,
            "timestamp": iso(c.timestamp),
        },
        at=c.timestamp,
    )


class ContactChanged(Loose):
    oldId: str | None = None
    newId: str | None = None
    isContact: bool | None = None
    id: MsgId | str | None = None
    name: str | None = None
    number: str | None = None


def contact_changed(data: dict[str, Any]) -> Parsed:
    c = check(ContactChanged, data, "data")
    contact = first(c.newId, msg_id(c.id))
    return event(
        "contact.changed",
        {
            "contactId": contact,
            "oldId": c.oldId,
            "newId": c.newId,
            "isContact": c.isContact,
            "name": c.name,
            "number": c.number,
        },
    )


EVENTS: dict[str, Handler] = {
    "qr": qr,
    "authenticated": authenticated,
    "auth_failure": auth_failure,
    "ready": ready,
    "disconnected": disconnected,
    "change_state": change_state,
    "loading_screen": loading_screen,
    "message": message,
    "message_create": message,
    "message_ack": message_ack,
    "message_revoke_everyone": message_revoke_everyone,
    "message_revoke_me": message_revoke_me,
    "message_reaction": message_reaction,
    "group_join": _group("group.join"),
    "group_leave": _group("group.leave"),
    "group_update": _group("group.update"),
    "group_admin_changed": _group("group.update"),
    "call": call,
    "contact_changed": contact_changed,
}


def dispatch(table: dict[str, Handler], name: str, data: dict[str, Any] | None, body: Any) -> Parsed:
    handler = table.get(name)
    parsed = handler(data or {}) if handler else None
    return parsed if parsed is not None else unknown(body)


# --------------------------------------------------------------------------- dialect interface


def session_id(body: dict[str, Any]) -> str | None:
    return None


def parse(body: dict[str, Any]) -> Result:
    env = check(Env, body)
    if env.event not in EVENTS and "data" not in body:
        raise NoDialectMatched("no data", [{"field": "data", "message": "Field required"}])
    parsed = dispatch(EVENTS, env.event, env.data, body)
    return Result(env.event, parsed, occurred_at=parse_time(env.timestamp) or parsed.occurred_at)
