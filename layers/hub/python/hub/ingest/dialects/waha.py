"""waha: devlikeapro/WAHA `{"id", "timestamp"(ms), "session", "event", "payload", "engine", "me"?, "environment"}`.

Session in body field `session`; `id` (evt_<ulid>) is the gateway event id. The QR is never in the
webhook: SCAN_QR_CODE is qr_generated with no QR. STARTING is `reconnecting` when the payload's
status history shows WORKING before it, else `connecting`. Acks use whatsapp-web.js numbering (-1..4).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from hub.ingest.models import SessionStatus as S

from ._claims import waha as claims  # noqa: F401 - the dialect interface: `claims(body)`
from ._common import (
    WWEB_ACK,
    Envelope,
    Handler,
    Loose,
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
    presence,
    session,
    unknown,
)

NAME = "waha"
SESSION_FIELD = "session"


class Me(Loose):
    id: str | None = None
    pushName: str | None = None


class Env(Envelope):
    event: str
    session: str
    payload: dict[str, Any] | None
    id: str | None = None
    timestamp: int | float | str | None = None
    me: Me | None = None
    engine: str | None = None


# --------------------------------------------------------------------------- session.status


class StatusItem(Loose):
    status: str | None = None
    timestamp: Stamp = None


class SessionStatusPayload(Loose):
    status: str
    name: str | None = None
    statuses: list[StatusItem] | None = None


STATUSES: dict[str, S] = {
    "STOPPED": S.SESSION_NOT_CONNECTED,
    "STARTING": S.CONNECTING,
    "SCAN_QR_CODE": S.QR_GENERATED,
    "WORKING": S.SESSION_CONNECTED,
    "FAILED": S.ERROR,
}


def session_status(env: Env) -> Parsed | None:
    p = check(SessionStatusPayload, env.payload or {}, "payload")
    status = STATUSES.get(p.status.upper())
    if status is None:
        return None
    history = [item.status for item in (p.statuses or [])[:-1]]
    if status is S.CONNECTING and "WORKING" in history:
        status = S.RECONNECTING
    me = env.me or Me()
    connected = status is S.SESSION_CONNECTED
    last = (p.statuses or [StatusItem()])[-1]
    return session(
        status,
        phone=me.id if connected else None,
        display=me.pushName if connected else None,
        data={"gatewayStatus": p.status},
        at=last.timestamp,
    )


# --------------------------------------------------------------------------- messages


class Media(Loose):
    mimetype: str | None = None
    url: str | None = None


class Message(Loose):
    id: str | None = None
    timestamp: Stamp = None
    from_: str | None = Field(None, alias="from")
    to: str | None = None
    fromMe: bool | None = None
    participant: str | None = None
    body: str | None = None
    hasMedia: bool | None = None
    media: Media | None = None
    source: str | None = None
    ack: int | str | None = None
    ackName: str | None = None
    location: dict[str, Any] | None = None
    vCards: list[Any] | None = None


def _chat(m: Message) -> str | None:
    return chat_of_serialized(m.id) or (m.to if m.fromMe else m.from_)


def _type(m: Message) -> str:
    if m.hasMedia or m.media:
        mime = (m.media.mimetype if m.media else None) or ""
        kind = mime.split("/", 1)[0]
        return {"image": "image", "video": "video", "audio": "audio"}.get(kind, "document" if mime else "media")
    if m.location:
        return "location"
    if m.vCards:
        return "contact"
    return "text"


def message(env: Env) -> Parsed:
    m = check(Message, env.payload or {}, "payload")
    return event(
        "message.sent" if m.fromMe else "message.received",
        {
            "messageId": m.id,
            "chatId": _chat(m),
            "from": m.from_,
            "to": m.to,
            "fromMe": bool(m.fromMe),
            "participant": m.participant,
            "body": m.body,
            "type": message_type(_type(m)),
            "hasMedia": m.hasMedia,
            "source": m.source,
            "timestamp": iso(m.timestamp),
        },
        at=m.timestamp,
    )


def ack(env: Env) -> Parsed | None:
    m = check(Message, env.payload or {}, "payload")
    if not m.id:
        raise invalid("payload.id", "Field required")
    value = first(m.ack, m.ackName)
    if value is None:
        raise invalid("payload.ack", "Field required")
    status = ack_status(value, WWEB_ACK)
    if status is None:
        return None
    return event(
        "message.updated",
        {
            "messageId": m.id,
            "status": status,
            "ack": value,
            "ackName": m.ackName,
            "chatId": _chat(m),
            "from": m.from_,
            "to": m.to,
            "fromMe": m.fromMe,
            "participant": m.participant,
        },
    )


class ReactionBody(Loose):
    text: str | None = None
    messageId: str | None = None


class Reaction(Message):
    reaction: ReactionBody


def reaction(env: Env) -> Parsed:
    r = check(Reaction, env.payload or {}, "payload")
    return event(
        "message.reaction",
        {
            "messageId": r.reaction.messageId,
            "reactionId": r.id,
            "reaction": r.reaction.text,
            "removed": not r.reaction.text,
            "chatId": _chat(r),
            "from": r.participant or r.from_,
            "fromMe": r.fromMe,
            "timestamp": iso(r.timestamp),
        },
        at=r.timestamp,
    )


class Revoked(Loose):
    revokedMessageId: str | None = None
    after: Message | None = None
    before: Message | None = None


def revoked(env: Env) -> Parsed:
    r = check(Revoked, env.payload or {}, "payload")
    msg = r.before or r.after or Message()
    return event(
        "message.revoked",
        {
            "messageId": first(r.revokedMessageId, r.before.id if r.before else None),
            "chatId": _chat(msg),
            "from": msg.from_,
            "fromMe": msg.fromMe,
            "forEveryone": True,
        },
        at=r.after.timestamp if r.after else None,
    )


# --------------------------------------------------------------------------- groups, presence, calls


class Group(Loose):
    id: str | None = None
    subject: str | None = None


class Participant(Loose):
    id: str | None = None
    pn: str | None = None
    role: str | None = None


class GroupEvent(Loose):
    group: Group | None = None
    type: str | None = None
    timestamp: Stamp = None
    participants: list[Participant | str] | None = None
    # v1 events (group.join / group.leave) carry WAHA's older shapes: keep the id if present
    id: str | dict[str, Any] | None = None


PARTICIPANT_TYPES = {"join": "group.join", "leave": "group.leave", "promote": "group.update", "demote": "group.update"}


def _group(type_: str | None) -> Handler:
    def handler(env: Env) -> Parsed | None:
        g = check(GroupEvent, env.payload or {}, "payload")
        kind = type_ or PARTICIPANT_TYPES.get(g.type or "")
        if kind is None:
            return None
        people = [p if isinstance(p, str) else p.id for p in (g.participants or [])]
        chat = first(g.group.id if g.group else None, g.id if isinstance(g.id, str) else None)
        return event(
            kind,
            {
                "chatId": chat,
                "subject": g.group.subject if g.group else None,
                "action": g.type,
                "participants": [p for p in people if p] or None,
                "timestamp": iso(g.timestamp),
            },
            at=g.timestamp,
        )

    return handler


class PresenceItem(Loose):
    participant: str | None = None
    lastKnownPresence: str | None = None
    lastSeen: Stamp = None


class Presence(Loose):
    id: str | None = None
    presences: list[PresenceItem] = []


def presence_update(env: Env) -> Parsed:
    p = check(Presence, env.payload or {}, "payload")
    item = (p.presences or [PresenceItem()])[0]
    return event(
        "presence.update",
        {
            "chatId": p.id,
            "participant": item.participant,
            "presence": presence(item.lastKnownPresence),
            "rawPresence": item.lastKnownPresence,
            "lastSeen": iso(item.lastSeen),
        },
    )


class Call(Loose):
    id: str | None = None
    from_: str | None = Field(None, alias="from")
    timestamp: Stamp = None
    isVideo: bool | None = None
    isGroup: bool | None = None


def call(env: Env) -> Parsed:
    c = check(Call, env.payload or {}, "payload")
    return event(
        "call.received",
        {"callId": c.id, "from": c.from_, "isVideo": c.isVideo, "isGroup": c.isGroup, "timestamp": iso(c.timestamp)},
        at=c.timestamp,
    )


EVENTS: dict[str, Handler] = {
    "session.status": session_status,
    "message": message,
    "message.any": message,
    "message.ack": ack,
    "message.ack.group": ack,
    "message.reaction": reaction,
    "message.revoked": revoked,
    "group.v2.join": _group("group.join"),
    "group.v2.leave": _group("group.leave"),
    "group.v2.update": _group("group.update"),
    "group.v2.participants": _group(None),
    "group.join": _group("group.join"),
    "group.leave": _group("group.leave"),
    "presence.update": presence_update,
    "call.received": call,
}


def session_id(body: dict[str, Any]) -> str | None:
    value = body.get("session")
    return value if isinstance(value, str) else None


def parse(body: dict[str, Any]) -> Result:
    env = check(Env, body)
    handler = EVENTS.get(env.event)
    parsed = handler(env) if handler else None
    parsed = parsed if parsed is not None else unknown(body)
    return Result(
        env.event, parsed, occurred_at=parse_time(env.timestamp) or parsed.occurred_at, gateway_event_id=env.id or None
    )
