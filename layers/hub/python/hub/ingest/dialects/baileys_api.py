"""baileys-api: salman0ansari/whatsapp-api-nodejs `{"type", "body", "instanceKey"}`.

Session in `instanceKey`. `connection` carries only open / close (no reason code); `message` is a
Baileys WAMessage (its `key` is the message key); group events wrap the Baileys argument in
`body.data`. No QR, ack or revoke webhooks exist in this worker.
"""

from __future__ import annotations

from typing import Any

from hub.ingest.models import SessionStatus as S

from . import _baileys as B
from ._claims import baileys_api as claims  # noqa: F401 - the dialect interface: `claims(body)`
from ._common import Envelope, Handler, Loose, Parsed, Result, Stamp, as_dict, check, event, iso, session, unknown

NAME = "baileys-api"
SESSION_FIELD = "instanceKey"


class Env(Envelope):
    type: str
    body: dict[str, Any] | list[Any] | None = None
    instanceKey: str


class Connection(Loose):
    connection: str


CONNECTIONS = {"open": S.SESSION_CONNECTED, "connecting": S.CONNECTING, "close": S.SESSION_NOT_CONNECTED}


def connection(body: Any) -> Parsed | None:
    state = check(Connection, body if body is not None else {}, "body").connection
    status = CONNECTIONS.get(state)
    return None if status is None else session(status, data={"state": state})


def message(body: Any) -> Parsed:
    return B.message_event(check(B.WAMessage, body if body is not None else {}, "body"), at_prefix=("body",))


class User(Loose):
    id: str | None = None


class Call(Loose):
    id: str | None = None
    timestamp: Stamp = None
    user: User | None = None


def call_offer(body: Any) -> Parsed:
    c = check(Call, body if body is not None else {}, "body")
    return event(
        "call.received",
        {"callId": c.id, "from": c.user.id if c.user else None, "timestamp": iso(c.timestamp)},
        at=c.timestamp,
    )


EVENTS: dict[str, Handler] = {
    "connection": connection,
    "message": message,
    "presence": lambda body: B.presence_event(body if body is not None else {}, "body"),
    "call_offer": call_offer,
    "group_created": lambda body: B.group_event("group.join", as_dict(body).get("data")),
    "group_updated": lambda body: B.group_event("group.update", as_dict(body).get("data")),
    "group_participants_updated": lambda body: B.participants_event(as_dict(body).get("data") or {}, "body", "data"),
}


def session_id(body: dict[str, Any]) -> str | None:
    value = body.get("instanceKey")
    return value if isinstance(value, str) else None


def parse(body: dict[str, Any]) -> Result:
    env = check(Env, body)
    handler = EVENTS.get(env.type)
    parsed = handler(env.body) if handler else None
    parsed = parsed if parsed is not None else unknown(body)
    return Result(env.type, parsed, occurred_at=parsed.occurred_at)
