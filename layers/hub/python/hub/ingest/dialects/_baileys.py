"""Baileys shapes shared by the Baileys-based dialects (worker, evolution, baileys-api)."""

from __future__ import annotations

from typing import Any

from hub.ingest.models import SessionStatus as S

from ._common import (
    BAILEYS_ACK,
    Loose,
    Parsed,
    Stamp,
    ack_status,
    as_dict,
    check,
    event,
    first,
    iso,
    message_type,
    presence,
    session,
)

DISCONNECT_REASONS: dict[int, str] = {
    401: "logged_out",
    403: "forbidden",
    408: "connection_lost",
    411: "multidevice_mismatch",
    428: "connection_closed",
    440: "connection_replaced",
    500: "bad_session",
    503: "unavailable_service",
    515: "restart_required",
}
"""Baileys DisconnectReason codes -> reason names."""

CLOSE_STATUS: dict[int, S] = {
    401: S.LOGGED_OUT,
    403: S.AUTH_FAILURE,
    411: S.ERROR,
    503: S.ERROR,
    408: S.RECONNECTING,
    428: S.RECONNECTING,
    440: S.RECONNECTING,
    500: S.RECONNECTING,
    515: S.RECONNECTING,
}
"""Raw Baileys `connection: close` code -> status (MAPPING.md, Baileys column); others: session_not_connected."""


def reason_name(code: Any) -> str | None:
    if isinstance(code, bool) or not isinstance(code, int):
        return None
    return DISCONNECT_REASONS.get(code, str(code))


class Key(Loose):
    remoteJid: str | None = None
    fromMe: bool | None = None
    id: str | None = None
    participant: str | None = None


class WAMessage(Loose):
    key: Key | None = None
    message: dict[str, Any] | None = None
    messageTimestamp: Stamp = None
    pushName: str | None = None
    messageType: str | None = None
    status: int | str | None = None


def _text(content: dict[str, Any]) -> str | None:
    for path in (
        ("conversation",),
        ("extendedTextMessage", "text"),
        ("imageMessage", "caption"),
        ("videoMessage", "caption"),
        ("documentMessage", "caption"),
    ):
        node: Any = content
        for part in path:
            node = as_dict(node).get(part)
        if isinstance(node, str):
            return node
    return None


def _kind(content: dict[str, Any]) -> str | None:
    for key in content:
        if key not in ("messageContextInfo", "base64"):
            return message_type(key)
    return None


def message_event(msg: WAMessage, *, sent: bool | None = None, at_prefix: tuple[str | int, ...] = ()) -> Parsed:
    """message.received / .sent / .reaction / .revoked from one Baileys WAMessage."""
    key = msg.key or Key()
    content = msg.message or {}
    from_me = bool(key.fromMe) if sent is None else sent
    chat = key.remoteJid
    sender = key.participant or (None if from_me else chat)
    reaction = content.get("reactionMessage")
    if isinstance(reaction, dict):
        target = check(Key, reaction.get("key") or {}, *at_prefix, "message", "reactionMessage", "key")
        text = reaction.get("text")
        text = text if isinstance(text, str) else None
        return event(
            "message.reaction",
            {
                "messageId": target.id,
                "reaction": text,
                "removed": not text,
                "reactionId": key.id,
                "chatId": chat,
                "from": sender,
                "fromMe": from_me,
                "timestamp": iso(msg.messageTimestamp),
            },
            at=msg.messageTimestamp,
        )
    protocol = content.get("protocolMessage")
    if isinstance(protocol, dict) and protocol.get("type") in (0, "REVOKE"):
        target = check(Key, protocol.get("key") or {}, *at_prefix, "message", "protocolMessage", "key")
        return event(
            "message.revoked",
            {
                "messageId": target.id,
                "chatId": first(target.remoteJid, chat),
                "from": sender,
                "fromMe": from_me,
                "forEveryone": True,
                "timestamp": iso(msg.messageTimestamp),
            },
            at=msg.messageTimestamp,
        )
    return event(
        "message.sent" if from_me else "message.received",
        {
            "messageId": key.id,
            "chatId": chat,
            "from": sender,
            "to": chat if from_me else None,
            "fromMe": from_me,
            "participant": key.participant,
            "pushName": msg.pushName,
            "body": _text(content),
            "type": first(message_type(msg.messageType), _kind(content)),
            "timestamp": iso(msg.messageTimestamp),
        },
        at=msg.messageTimestamp,
    )


def first_message(data: Any) -> Any:
    """The WAMessage in a worker / baileys-api body: the object itself, or the first of `{messages: [...]}`."""
    if isinstance(data, dict) and "key" not in data and isinstance(data.get("messages"), list) and data["messages"]:
        return data["messages"][0]
    return data


class Update(Loose):
    key: Key
    update: dict[str, Any] = {}


def update_event(raw: Any, *at: str | int) -> Parsed | None:
    """Baileys messages.update entry `{key, update: {status | message: null + messageStubType 1}}`."""
    if isinstance(raw, list):
        if not raw:
            return None
        raw, at = raw[0], (*at, 0)
    upd = check(Update, raw, *at)
    key = upd.key
    if "status" in upd.update:
        status = ack_status(upd.update["status"], BAILEYS_ACK)
        if status is None:
            return None
        return event(
            "message.updated",
            {
                "messageId": key.id,
                "status": status,
                "ack": upd.update["status"],
                "chatId": key.remoteJid,
                "fromMe": key.fromMe,
                "participant": key.participant,
            },
        )
    if upd.update.get("messageStubType") == 1 or ("message" in upd.update and upd.update["message"] is None):
        return event(
            "message.revoked",
            {
                "messageId": key.id,
                "chatId": key.remoteJid,
                "fromMe": key.fromMe,
                "forEveryone": True,
            },
        )
    return None


class Presences(Loose):
    id: str | None = None
    presences: dict[str, Any] = {}


def presence_event(raw: Any, *at: str | int) -> Parsed:
    """Baileys presence.update `{id, presences: {jid: {lastKnownPresence, lastSeen?}}}` (first participant)."""
    p = check(Presences, raw, *at)
    participant, info = next(iter(p.presences.items()), (None, {}))
    info = as_dict(info)
    return event(
        "presence.update",
        {
            "chatId": p.id,
            "participant": participant,
            "presence": presence(info.get("lastKnownPresence")),
            "rawPresence": info.get("lastKnownPresence"),
            "lastSeen": iso(info.get("lastSeen")),
        },
    )


class Connection(Loose):
    connection: str | None = None
    qr: str | None = None
    isNewLogin: bool | None = None
    lastDisconnect: dict[str, Any] | None = None


def close_code(last_disconnect: dict[str, Any] | None) -> int | None:
    output = as_dict(as_dict(as_dict(last_disconnect).get("error")).get("output"))
    code = output.get("statusCode")
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def connection_event(raw: Any, *at: str | int) -> Parsed | None:
    """Raw Baileys connection.update (`{connection, lastDisconnect, qr, isNewLogin}`)."""
    c = check(Connection, raw, *at)
    if c.qr:
        return session(S.QR_GENERATED, qr=c.qr)
    if c.connection == "open":
        return session(S.SESSION_CONNECTED, data={"state": "open"})
    if c.connection == "connecting":
        return session(S.CONNECTING, data={"state": "connecting"})
    if c.connection == "close":
        code = close_code(c.lastDisconnect)
        return session(
            CLOSE_STATUS.get(code or 0, S.SESSION_NOT_CONNECTED),
            reason=reason_name(code),
            data={"state": "close", "statusCode": code},
        )
    if c.isNewLogin:
        return session(S.AUTHENTICATED)
    return None


class GroupParticipants(Loose):
    id: str | None = None
    author: str | None = None
    participants: list[Any] = []
    action: str | None = None


PARTICIPANT_ACTIONS = {
    "add": "group.join",
    "remove": "group.leave",
    "promote": "group.update",
    "demote": "group.update",
    "modify": "group.update",
}


def participants_event(raw: Any, *at: str | int) -> Parsed | None:
    """Baileys group-participants.update `{id, author, participants, action}` (participants: JIDs or objects)."""
    g = check(GroupParticipants, raw, *at)
    type_ = PARTICIPANT_ACTIONS.get(g.action or "")
    if type_ is None:
        return None
    people = [
        p if isinstance(p, str) else first(as_dict(p).get("id"), as_dict(p).get("phoneNumber")) for p in g.participants
    ]
    return event(
        type_,
        {
            "chatId": g.id,
            "author": g.author,
            "action": g.action,
            "participants": [p for p in people if isinstance(p, str)],
        },
    )


def group_event(type_: str, raw: Any) -> Parsed:
    """groups.upsert / groups.update: a GroupMetadata object or a list of them (first one)."""
    item = as_dict(raw[0] if isinstance(raw, list) and raw else raw)
    subject = item.get("subject")
    chat = item.get("id")
    return event(
        type_,
        {"chatId": chat if isinstance(chat, str) else None, "subject": subject if isinstance(subject, str) else None},
    )
