"""device: the "WhatsApp Multi-Platform API Gateway" status webhook (docs/contract.md §6).

`{"device": {"deviceHash"|"numberHash", "status"}, "event": {"type", "code", "message", ...}, "timestamp"}`.
`event.type` is the table key; `container_event` is looked up by `event.code` (DEVICE_LOGGED_OUT and
CONTAINER_STOP are lifecycle, anything else is a `device.event`).
"""

from __future__ import annotations

from typing import Any

from hub.ingest.models import SessionStatus as S

from ._claims import device as claims  # noqa: F401 - the dialect interface: `claims(body)`
from ._common import (
    Envelope,
    Handler,
    Loose,
    Parsed,
    Result,
    Stamp,
    as_dict,
    check,
    event,
    first,
    parse_time,
    phone_in_text,
    session,
    unknown,
)

NAME = "device"
SESSION_FIELD = "device.deviceHash"


class Device(Envelope):
    deviceHash: str | None = None
    numberHash: str | None = None
    status: str | None = None


class DeviceItem(Loose):
    name: str | None = None
    device: str | None = None
    jid: str | None = None


class Event(Envelope):
    type: str
    code: str | None = None
    message: str | None = None
    devices: list[DeviceItem] | None = None
    device_info: dict[str, Any] | None = None
    error: dict[str, Any] | str | None = None
    data: Any = None


class Env(Envelope):
    device: Device
    event: Event
    timestamp: Stamp = None


def _connected(env: Env) -> Parsed:
    d = (env.event.devices or [DeviceItem()])[0]
    return session(
        S.SESSION_CONNECTED,
        phone=first(d.jid, d.device),
        display=d.name,
        message=env.event.message,
        data={"code": env.event.code, "deviceStatus": env.device.status},
    )


def _status(status: S) -> Handler:
    def handler(env: Env) -> Parsed:
        err = env.event.error
        reason = first(
            as_dict(err).get("reason"), err if isinstance(err, str) else None, as_dict(env.event.data).get("reason")
        )
        info = as_dict(env.event.device_info)
        phone = first(info.get("jid"), info.get("id"), phone_in_text(env.event.message))
        return session(
            status,
            phone=phone,
            reason=reason,
            message=env.event.message,
            data={"code": env.event.code, "deviceStatus": env.device.status},
        )

    return handler


def _device_event(env: Env) -> Parsed:
    return event(
        "device.event",
        {
            "code": env.event.code,
            "message": env.event.message,
            "deviceStatus": env.device.status,
            "data": env.event.data,
        },
    )


CONTAINER_CODES: dict[str, Handler] = {
    "DEVICE_LOGGED_OUT": _status(S.LOGGED_OUT),
    "CONTAINER_STOP": _status(S.SESSION_NOT_CONNECTED),
}


EVENTS: dict[str, Handler] = {
    "login_success": _status(S.AUTHENTICATED),
    "connected": _connected,
    "disconnected": _status(S.SESSION_NOT_CONNECTED),
    "auth_failed": _status(S.AUTH_FAILURE),
    "container_event": lambda env: CONTAINER_CODES.get(env.event.code or "", _device_event)(env),
}


def session_id(body: dict[str, Any]) -> str | None:
    device = as_dict(body.get("device"))
    value = first(device.get("deviceHash"), device.get("numberHash"))
    return value if isinstance(value, str) else None


def parse(body: dict[str, Any]) -> Result:
    env = check(Env, body)
    handler = EVENTS.get(env.event.type)
    parsed = handler(env) if handler else None
    parsed = parsed if parsed is not None else unknown(body)
    return Result(env.event.type, parsed, occurred_at=parse_time(env.timestamp))
