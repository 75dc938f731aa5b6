"""wuzapi: asternic/wuzapi, whatsmeow events as `{"type": "<EventType>", "event": {...}, ...}`.

JSON mode: the postmap plus `instanceName` and `userID` at the top level. Form mode: decode_body gives
`{"jsonData": <postmap>, "userID", "instanceName"}` (older builds: `jsonData` and `token`, no session).
Session: `instanceName`, else `userID`. The QR is a data-URL PNG (`qrCodeBase64`). Read receipts carry
the state as a string (Delivered / Read / ReadSelf). Reactions and revokes arrive as `Message`.
"""

from __future__ import annotations

from typing import Any

from hub.ingest.models import SessionStatus as S

from ._claims import wuzapi as claims  # noqa: F401 - the dialect interface: `claims(body)`
from ._common import (
    WWEB_ACK,
    Envelope,
    Handler,
    Loose,
    Parsed,
    Result,
    Stamp,
    ack_status,
    as_dict,
    check,
    event,
    first,
    invalid,
    iso,
    message_type,
    presence,
    session,
    unknown,
)

NAME = "wuzapi"
SESSION_FIELD = "instanceName"


class Post(Envelope):
    type: str
    event: dict[str, Any] | str | None = None
    state: str | None = None
    qrCodeBase64: str | None = None
    instanceName: str | None = None
    userID: str | None = None


class Form(Envelope):
    jsonData: dict[str, Any]
    instanceName: str | None = None
    userID: str | None = None


def _event(post: Post) -> dict[str, Any]:
    return post.event if isinstance(post.event, dict) else {}


# --------------------------------------------------------------------------- lifecycle


def qr(post: Post) -> Parsed:
    if not post.qrCodeBase64:
        raise invalid("qrCodeBase64", "Field required")
    return session(S.QR_GENERATED, qr=post.qrCodeBase64)


class Pair(Loose):
    ID: str | None = None
    BusinessName: str | None = None
    Platform: str | None = None


def pair_success(post: Post) -> Parsed:
    p = check(Pair, _event(post), "event")
    return session(S.AUTHENTICATED, phone=p.ID, display=p.BusinessName, data={"platform": p.Platform})


class Failure(Loose):
    Reason: int | str | None = None
    Code: int | str | None = None
    Message: str | None = None
    Error: str | None = None


def _status(status: S, default_reason: str | None = None) -> Handler:
    def handler(post: Post) -> Parsed:
        f = check(Failure, _event(post), "event")
        reason = first(f.Reason, f.Code, f.Error, default_reason)
        return session(status, reason=reason, message=f.Message)

    return handler


# --------------------------------------------------------------------------- messages


class MsgInfo(Loose):
    ID: str | None = None
    Chat: str | None = None
    Sender: str | None = None
    IsFromMe: bool | None = None
    IsGroup: bool | None = None
    Type: str | None = None
    MediaType: str | None = None
    PushName: str | None = None
    Timestamp: Stamp = None


class MessageEvent(Loose):
    Info: MsgInfo
    Message: dict[str, Any] | None = None


def _key_id(key: Any) -> str | None:
    k = as_dict(key)
    value = first(k.get("ID"), k.get("id"))
    return value if isinstance(value, str) else None


def _text(content: dict[str, Any]) -> str | None:
    for value in (
        content.get("conversation"),
        as_dict(content.get("extendedTextMessage")).get("text"),
        as_dict(content.get("imageMessage")).get("caption"),
        as_dict(content.get("videoMessage")).get("caption"),
    ):
        if isinstance(value, str):
            return value
    return None


def message(post: Post) -> Parsed:
    m = check(MessageEvent, _event(post), "event")
    info, content = m.Info, m.Message or {}
    base = {"chatId": info.Chat, "from": info.Sender, "fromMe": bool(info.IsFromMe), "timestamp": iso(info.Timestamp)}
    reaction = content.get("reactionMessage")
    if isinstance(reaction, dict):
        text = reaction.get("text")
        text = text if isinstance(text, str) else None
        return event(
            "message.reaction",
            {
                **base,
                "messageId": _key_id(reaction.get("key")),
                "reactionId": info.ID,
                "reaction": text,
                "removed": not text,
            },
            at=info.Timestamp,
        )
    protocol = content.get("protocolMessage")
    if isinstance(protocol, dict) and protocol.get("type") in (0, "REVOKE"):
        return event(
            "message.revoked",
            {**base, "messageId": _key_id(protocol.get("key")), "forEveryone": True},
            at=info.Timestamp,
        )
    return event(
        "message.sent" if info.IsFromMe else "message.received",
        {
            **base,
            "messageId": info.ID,
            "to": info.Chat if info.IsFromMe else None,
            "isGroup": info.IsGroup,
            "pushName": info.PushName,
            "body": _text(content),
            "type": message_type(first(info.MediaType, info.Type)),
        },
        at=info.Timestamp,
    )


class Receipt(Loose):
    MessageIDs: list[str]
    Chat: str | None = None
    Sender: str | None = None
    Timestamp: Stamp = None
    Type: str | None = None


def read_receipt(post: Post) -> Parsed | None:
    r = check(Receipt, _event(post), "event")
    if not r.MessageIDs:
        raise invalid("event.MessageIDs", "List should have at least 1 item")
    raw = first(post.state, r.Type)
    if raw is None:
        raise invalid("state", "Field required")
    status = ack_status(raw, WWEB_ACK)
    if status is None:
        return None
    return event(
        "message.updated",
        {
            "messageId": r.MessageIDs[0],
            "messageIds": r.MessageIDs,
            "status": status,
            "ack": raw,
            "chatId": r.Chat,
            "from": r.Sender,
        },
        at=r.Timestamp,
    )


class PresenceEvent(Loose):
    From: str | None = None
    Unavailable: bool | None = None
    LastSeen: Stamp = None
    Chat: str | None = None
    Sender: str | None = None
    State: str | None = None
    Media: str | None = None


def presence_update(post: Post) -> Parsed:
    p = check(PresenceEvent, _event(post), "event")
    raw = first(post.state, "offline" if p.Unavailable else ("online" if p.Unavailable is False else None))
    return event(
        "presence.update",
        {
            "chatId": p.From,
            "participant": p.From,
            "presence": presence(raw),
            "rawPresence": raw,
            "lastSeen": iso(p.LastSeen),
        },
    )


def chat_presence(post: Post) -> Parsed:
    p = check(PresenceEvent, _event(post), "event")
    state = "recording" if p.State == "composing" and p.Media == "audio" else p.State
    return event(
        "presence.update",
        {"chatId": p.Chat, "participant": p.Sender, "presence": presence(state), "rawPresence": p.State},
    )


class CallEvent(Loose):
    CallID: str | None = None
    From: str | None = None
    Timestamp: Stamp = None
    GroupJID: str | None = None


def call_offer(post: Post) -> Parsed:
    c = check(CallEvent, _event(post), "event")
    return event(
        "call.received",
        {"callId": c.CallID, "from": c.From, "isGroup": bool(c.GroupJID), "timestamp": iso(c.Timestamp)},
        at=c.Timestamp,
    )


class GroupEvent(Loose):
    JID: str | None = None
    Sender: str | None = None
    Join: list[str] | None = None
    Leave: list[str] | None = None
    Timestamp: Stamp = None


def _group(default: str) -> Handler:
    def handler(post: Post) -> Parsed:
        g = check(GroupEvent, _event(post), "event")
        kind = "group.join" if g.Join else "group.leave" if g.Leave else default
        return event(
            kind,
            {"chatId": g.JID, "author": g.Sender, "participants": g.Join or g.Leave, "timestamp": iso(g.Timestamp)},
            at=g.Timestamp,
        )

    return handler


class ContactEvent(Loose):
    JID: str | None = None
    Timestamp: Stamp = None


def contact(post: Post) -> Parsed:
    c = check(ContactEvent, _event(post), "event")
    return event("contact.changed", {"contactId": c.JID, "change": post.type}, at=c.Timestamp)


EVENTS: dict[str, Handler] = {
    "Message": message,
    "ReadReceipt": read_receipt,
    "Presence": presence_update,
    "ChatPresence": chat_presence,
    "QR": qr,
    "QRTimeout": _status(S.SESSION_NOT_CONNECTED, "qr_timeout"),
    "PairSuccess": pair_success,
    "PairError": _status(S.AUTH_FAILURE),
    "Connected": lambda post: session(S.SESSION_CONNECTED),
    "KeepAliveRestored": lambda post: session(S.SESSION_CONNECTED),
    "Disconnected": _status(S.SESSION_NOT_CONNECTED),
    "KeepAliveTimeout": _status(S.RECONNECTING),
    "LoggedOut": _status(S.LOGGED_OUT),
    "ConnectFailure": _status(S.ERROR),
    "TemporaryBan": _status(S.AUTH_FAILURE),
    "StreamError": _status(S.ERROR),
    "ClientOutdated": _status(S.ERROR, "client_outdated"),
    "OfflineSyncPreview": lambda post: session(S.LOADING),
    "CallOffer": call_offer,
    "CallOfferNotice": call_offer,
    "JoinedGroup": _group("group.join"),
    "GroupInfo": _group("group.update"),
    "Picture": contact,
    "UserAbout": contact,
    "IdentityChange": contact,
}


# --------------------------------------------------------------------------- dialect interface


def session_id(body: dict[str, Any]) -> str | None:
    inner = as_dict(body.get("jsonData"))
    for value in (body.get("instanceName"), body.get("userID"), inner.get("instanceName"), inner.get("userID")):
        if isinstance(value, str) and value:
            return value
    return None


def parse(body: dict[str, Any]) -> Result:
    if "jsonData" in body:
        post = check(Post, check(Form, body).jsonData, "jsonData")
    else:
        post = check(Post, body)
    handler = EVENTS.get(post.type)
    parsed = handler(post) if handler else None
    parsed = parsed if parsed is not None else unknown(body)
    return Result(post.type, parsed, occurred_at=parsed.occurred_at)
