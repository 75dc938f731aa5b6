"""evolution: Evolution API `{"event", "instance", "data", "destination", "date_time", "sender", "server_url", "apikey"}`.

Event names are matched case-, dot-, dash- and underscore-insensitively (`MESSAGES_UPSERT` ==
`messages.upsert`, `GROUP_PARTICIPANTS_UPDATE` == `group-participants.update`). Session in body field
`instance`. No event id. `date_time` (the server's local wall clock with a `Z`) is the event time.
Message status uses Baileys numbering / names (ERROR..PLAYED, 0..5); `DELETED` means revoked.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from hub.ingest.models import SessionStatus as S

from . import _baileys as B
from ._claims import evolution as claims  # noqa: F401 - the dialect interface: `claims(body)`
from ._common import (
    BAILEYS_ACK,
    Envelope,
    Handler,
    Loose,
    Parsed,
    Result,
    ack_status,
    check,
    event,
    first,
    invalid,
    norm_key,
    parse_time,
    session,
    unknown,
)

NAME = "evolution"
SESSION_FIELD = "instance"


class Env(Envelope):
    event: str
    instance: str
    data: Any = None
    date_time: str | None = None
    sender: str | None = None
    server_url: str | None = None
    destination: str | None = None
    apikey: str | None = None


# --------------------------------------------------------------------------- lifecycle


class QrCode(Loose):
    code: str | None = None
    base64: str | None = None
    pairingCode: str | None = None


class QrUpdated(Loose):
    qrcode: QrCode | None = None
    message: str | None = None
    statusCode: int | None = None


def qrcode_updated(data: Any) -> Parsed | None:
    q = check(QrUpdated, data if data is not None else {}, "data")
    if q.qrcode and (q.qrcode.code or q.qrcode.base64):
        return session(
            S.QR_GENERATED,
            qr=first(q.qrcode.code, q.qrcode.base64),
            qr_image=q.qrcode.base64,
            data={"pairingCode": q.qrcode.pairingCode},
        )
    if q.statusCode is not None or q.message:
        # QRCODE_LIMIT reached: MAPPING.md lists it under auth_failure
        return session(
            S.AUTH_FAILURE, reason="max_qr_attempts_reached", message=q.message, data={"statusCode": q.statusCode}
        )
    raise invalid("data.qrcode", "Field required")


class Connection(Loose):
    state: str
    statusReason: int | None = None
    wuid: str | None = None
    profileName: str | None = None


def _closed(code: int | None) -> S:
    return S.LOGGED_OUT if code == 401 else S.SESSION_NOT_CONNECTED


def connection_update(data: Any) -> Parsed | None:
    c = check(Connection, data if data is not None else {}, "data")
    info = {"state": c.state, "statusReason": c.statusReason}
    if c.state == "open":
        return session(S.SESSION_CONNECTED, phone=c.wuid, display=c.profileName, data=info)
    if c.state == "connecting":
        return session(S.CONNECTING, data=info)
    if c.state == "close":
        return session(_closed(c.statusReason), reason=B.reason_name(c.statusReason), data=info)
    if c.state == "refused":
        return session(S.AUTH_FAILURE, reason="refused", data=info)
    return None


class StatusInstance(Loose):
    status: str
    disconnectionReasonCode: int | None = None


def status_instance(data: Any) -> Parsed | None:
    s = check(StatusInstance, data if data is not None else {}, "data")
    if s.status != "closed":
        return None
    code = s.disconnectionReasonCode
    return session(_closed(code), reason=B.reason_name(code), data={"statusReason": code})


def _lifecycle(status: S, reason: str | None = None) -> Handler:
    return lambda data: session(status, reason=reason)


# --------------------------------------------------------------------------- messages


def _message(sent: bool | None) -> Handler:
    def handler(data: Any) -> Parsed:
        return B.message_event(
            check(B.WAMessage, data if data is not None else {}, "data"), sent=sent, at_prefix=("data",)
        )

    return handler


class Update(Loose):
    keyId: str | None = None
    remoteJid: str | None = None
    fromMe: bool | None = None
    participant: str | None = None
    status: str | int | None = None
    messageId: str | None = None


def messages_update(data: Any) -> Parsed | None:
    u = check(Update, data if data is not None else {}, "data")
    message_id = first(u.keyId, u.messageId)
    if message_id is None:
        raise invalid("data.keyId", "Field required")
    if u.status is None:
        raise invalid("data.status", "Field required")
    if u.status == "DELETED":
        return event(
            "message.revoked", {"messageId": message_id, "chatId": u.remoteJid, "fromMe": u.fromMe, "forEveryone": True}
        )
    status = ack_status(u.status, BAILEYS_ACK)
    if status is None:
        return None
    return event(
        "message.updated",
        {
            "messageId": message_id,
            "status": status,
            "ack": u.status,
            "chatId": u.remoteJid,
            "fromMe": u.fromMe,
            "participant": u.participant,
            "evolutionMessageId": u.messageId if u.keyId else None,
        },
    )


def messages_delete(data: Any) -> Parsed:
    key = check(B.Key, data if data is not None else {}, "data")
    return event(
        "message.revoked",
        {
            "messageId": key.id,
            "chatId": key.remoteJid,
            "fromMe": key.fromMe,
            "participant": key.participant,
            "forEveryone": True,
        },
    )


class CallData(Loose):
    id: str | None = None
    from_: str | None = Field(None, alias="from")
    chatId: str | None = None
    isVideo: bool | None = None
    isGroup: bool | None = None
    status: str | None = None
    date: str | int | None = None


def call(data: Any) -> Parsed | None:
    raw = data[0] if isinstance(data, list) and data else data
    c = check(CallData, raw if raw is not None else {}, "data")
    if c.status not in (None, "offer", "ringing"):
        return None
    return event(
        "call.received",
        {
            "callId": c.id,
            "from": first(c.from_, c.chatId),
            "isVideo": c.isVideo,
            "isGroup": c.isGroup,
            "status": c.status,
        },
        at=c.date,
    )


def contacts(data: Any) -> Parsed:
    items = data if isinstance(data, list) else [data]
    ids = [item.get("id") or item.get("remoteJid") for item in items if isinstance(item, dict)]
    ids = [i for i in ids if isinstance(i, str)]
    return event("contact.changed", {"contactId": ids[0] if ids else None, "contactIds": ids or None})


EVENTS: dict[str, Handler] = {
    norm_key(k): v
    for k, v in {
        "qrcode.updated": qrcode_updated,
        "connection.update": connection_update,
        "status.instance": status_instance,
        "instance.create": _lifecycle(S.INITIALIZING),
        "logout.instance": _lifecycle(S.LOGGED_OUT),
        "remove.instance": _lifecycle(S.SESSION_NOT_CONNECTED, "instance_removed"),
        "instance.delete": _lifecycle(S.SESSION_NOT_CONNECTED, "instance_deleted"),
        "messages.upsert": _message(None),
        "send.message": _message(True),
        "messages.update": messages_update,
        "messages.delete": messages_delete,
        "presence.update": lambda data: B.presence_event(data if data is not None else {}, "data"),
        "call": call,
        "group-participants.update": lambda data: B.participants_event(data if data is not None else {}, "data"),
        "groups.upsert": lambda data: B.group_event("group.join", data),
        "groups.update": lambda data: B.group_event("group.update", data),
        "contacts.upsert": contacts,
        "contacts.update": contacts,
    }.items()
}


def session_id(body: dict[str, Any]) -> str | None:
    value = body.get("instance")
    return value if isinstance(value, str) else None


def parse(body: dict[str, Any]) -> Result:
    env = check(Env, body)
    handler = EVENTS.get(norm_key(env.event))
    parsed = handler(env.data) if handler else None
    parsed = parsed if parsed is not None else unknown(body)
    return Result(env.event, parsed, occurred_at=parse_time(env.date_time) or parsed.occurred_at)
