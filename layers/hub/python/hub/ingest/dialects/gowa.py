"""gowa: aldinokemal/go-whatsapp-web-multidevice `{"event", "device_id", "session_id"?, "timestamp"?, "payload"}`.

Session: `session_id` (the operator-facing device id) when present, else `device_id` (the device JID).
GOWA sends no lifecycle webhooks (those go to its websocket; see the device dialect). `message*`
events have no top-level timestamp: `payload.timestamp` is used. Receipts are strings
(`delivered`, `read`, `read-self`, `played`, ...). `message.deleted` (delete for me) is a
`message.revoked` with `forEveryone: false`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ._claims import gowa as claims  # noqa: F401 - the dialect interface: `claims(body)`
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
    iso,
    message_type,
    parse_time,
    presence,
    unknown,
)

NAME = "gowa"
SESSION_FIELD = "device_id"


class Env(Envelope):
    event: str
    device_id: str | None = None
    session_id: str | None = None
    timestamp: Stamp = None
    payload: dict[str, Any] | None


class Message(Loose):
    id: str | None = None
    chat_id: str | None = None
    from_: str | None = Field(None, alias="from")
    from_lid: str | None = None
    from_name: str | None = None
    sender_display_name: str | None = None
    timestamp: Stamp = None
    is_from_me: bool | None = None
    body: str | None = None
    reaction: str | None = None
    reacted_message_id: str | None = None
    revoked_message_id: str | None = None
    revoked_from_me: bool | None = None
    revoked_chat: str | None = None
    replied_to_id: str | None = None


MEDIA_KEYS = (
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "video_note",
    "location",
    "live_location",
    "contact",
    "contacts_array",
)


def _type(payload: dict[str, Any], m: Message) -> str | None:
    for key in MEDIA_KEYS:
        if payload.get(key):
            return message_type(
                {"video_note": "video", "live_location": "location", "contacts_array": "contact"}.get(key, key)
            )
    return "text" if m.body is not None else None


def message(payload: dict[str, Any]) -> Parsed:
    m = check(Message, payload, "payload")
    return event(
        "message.sent" if m.is_from_me else "message.received",
        {
            "messageId": m.id,
            "chatId": m.chat_id,
            "from": m.from_,
            "fromMe": bool(m.is_from_me),
            "pushName": first(m.from_name, m.sender_display_name),
            "body": m.body,
            "type": _type(payload, m),
            "repliedToId": m.replied_to_id,
            "timestamp": iso(m.timestamp),
        },
        at=m.timestamp,
    )


def reaction(payload: dict[str, Any]) -> Parsed:
    m = check(Message, payload, "payload")
    return event(
        "message.reaction",
        {
            "messageId": m.reacted_message_id,
            "reactionId": m.id,
            "reaction": m.reaction,
            "removed": not m.reaction,
            "chatId": m.chat_id,
            "from": m.from_,
            "fromMe": m.is_from_me,
            "timestamp": iso(m.timestamp),
        },
        at=m.timestamp,
    )


def revoked(payload: dict[str, Any]) -> Parsed:
    m = check(Message, payload, "payload")
    return event(
        "message.revoked",
        {
            "messageId": m.revoked_message_id,
            "chatId": first(m.revoked_chat, m.chat_id),
            "from": m.from_,
            "fromMe": m.revoked_from_me,
            "forEveryone": True,
            "timestamp": iso(m.timestamp),
        },
        at=m.timestamp,
    )


class Deleted(Loose):
    deleted_message_id: str | None = None
    chat_id: str | None = None
    from_: str | None = Field(None, alias="from")
    was_from_me: bool | None = None
    timestamp: Stamp = None


def deleted(payload: dict[str, Any]) -> Parsed:
    d = check(Deleted, payload, "payload")
    return event(
        "message.revoked",
        {
            "messageId": d.deleted_message_id,
            "chatId": d.chat_id,
            "from": d.from_,
            "fromMe": d.was_from_me,
            "forEveryone": False,
            "timestamp": iso(d.timestamp),
        },
        at=d.timestamp,
    )


class Ack(Loose):
    ids: list[str]
    chat_id: str | None = None
    from_: str | None = Field(None, alias="from")
    receipt_type: str | None = None


def ack(payload: dict[str, Any]) -> Parsed | None:
    a = check(Ack, payload, "payload")
    if not a.ids:
        raise invalid("payload.ids", "List should have at least 1 item")
    if a.receipt_type is None:
        raise invalid("payload.receipt_type", "Field required")
    status = ack_status(a.receipt_type, WWEB_ACK)
    if status is None:
        return None
    return event(
        "message.updated",
        {
            "messageId": a.ids[0],
            "messageIds": a.ids,
            "status": status,
            "ack": a.receipt_type,
            "chatId": a.chat_id,
            "from": a.from_,
        },
    )


class ChatPresence(Loose):
    from_: str | None = Field(None, alias="from")
    chat_id: str | None = None
    state: str | None = None
    media: str | None = None
    is_group: bool | None = None


def chat_presence(payload: dict[str, Any]) -> Parsed:
    p = check(ChatPresence, payload, "payload")
    state = "recording" if p.state == "composing" and p.media == "audio" else p.state
    return event(
        "presence.update",
        {
            "chatId": p.chat_id,
            "participant": p.from_,
            "presence": presence(state),
            "rawPresence": p.state,
            "isGroup": p.is_group,
        },
    )


class Participants(Loose):
    chat_id: str | None = None
    type: str | None = None
    jids: list[str] | None = None


GROUP_TYPES = {"join": "group.join", "leave": "group.leave", "promote": "group.update", "demote": "group.update"}


def group_participants(payload: dict[str, Any]) -> Parsed | None:
    g = check(Participants, payload, "payload")
    kind = GROUP_TYPES.get(g.type or "")
    if kind is None:
        return None
    return event(kind, {"chatId": g.chat_id, "action": g.type, "participants": g.jids})


def group_joined(payload: dict[str, Any]) -> Parsed:
    g = check(Participants, payload, "payload")
    return event("group.join", {"chatId": g.chat_id, "participants": g.jids})


class CallOffer(Loose):
    call_id: str | None = None
    from_: str | None = Field(None, alias="from")
    group_jid: str | None = None
    auto_rejected: bool | None = None


def call_offer(payload: dict[str, Any]) -> Parsed:
    c = check(CallOffer, payload, "payload")
    return event(
        "call.received",
        {
            "callId": c.call_id,
            "from": c.from_,
            "isGroup": bool(c.group_jid),
            "groupId": c.group_jid,
            "autoRejected": c.auto_rejected,
        },
    )


EVENTS: dict[str, Handler] = {
    "message": message,
    "message.reaction": reaction,
    "message.revoked": revoked,
    "message.deleted": deleted,
    "message.ack": ack,
    "chat_presence": chat_presence,
    "group.participants": group_participants,
    "group.joined": group_joined,
    "call.offer": call_offer,
}


def session_id(body: dict[str, Any]) -> str | None:
    for key in ("session_id", "device_id"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def parse(body: dict[str, Any]) -> Result:
    env = check(Env, body)
    handler = EVENTS.get(env.event)
    parsed = handler(env.payload or {}) if handler else None
    parsed = parsed if parsed is not None else unknown(body)
    return Result(env.event, parsed, occurred_at=parse_time(env.timestamp) or parsed.occurred_at)
