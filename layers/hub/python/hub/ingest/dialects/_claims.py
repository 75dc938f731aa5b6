"""Which dialect owns a body: each dialect's `claims(body)` test on its distinctive keys, and the order
they are tried in (see the package docstring).

Kept apart from the dialect modules and free of pydantic, so that telling the dialect costs no import;
only the dialect that claims a body has its module (and models) imported.
"""

from collections.abc import Callable
from typing import Any, NamedTuple


def wwebjs_api(body: dict[str, Any]) -> bool:
    return "dataType" in body


def waha(body: dict[str, Any]) -> bool:
    return "session" in body and "payload" in body


def gowa(body: dict[str, Any]) -> bool:
    return "payload" in body and ("device_id" in body or "session_id" in body)


def evolution(body: dict[str, Any]) -> bool:
    return "instance" in body and "event" in body


def baileys_api(body: dict[str, Any]) -> bool:
    return "instanceKey" in body


def wuzapi(body: dict[str, Any]) -> bool:
    if "jsonData" in body:
        return True
    if not isinstance(body.get("type"), str):
        return False
    return "userID" in body or "instanceName" in body or ("event" in body and "data" not in body)


def device(body: dict[str, Any]) -> bool:
    return "device" in body and "event" in body


def gateway(body: dict[str, Any]) -> bool:
    return "instanceId" in body and "event" in body


WORKER_EVENTS = frozenset(
    {
        "qr_ready",
        "connected",
        "disconnected",
        "session_logged_out",
        "session_auto_disconnected",
        "reconnecting",
        "session_created",
        "message",
        "message.any",
        "messages.upsert",
        "messages.update",
        "messages.reaction",
        "presence.update",
        "connection.update",
    }
)
"""The worker dialect's mapped event names (the keys of `worker.EVENTS`)."""

WORKER_UNMAPPED = frozenset({"creds.update"})
"""Baileys-worker events with no hub type: accepted as gateway.unknown."""

WORKER_SHARED = frozenset({"disconnected", "message"})
"""Event names wwebjs sends too: the worker's only when `data` has the worker's shape."""


def _worker_shaped(name: str, data: Any) -> bool:
    d = data if isinstance(data, dict) else {}
    if name == "message":
        return isinstance(d.get("key"), dict) or isinstance(d.get("messages"), list)
    return "timestamp" in d


def worker(body: dict[str, Any]) -> bool:
    name = body.get("event")
    if not isinstance(name, str):
        return False
    if name in WORKER_SHARED:
        return _worker_shaped(name, body.get("data"))
    return name in WORKER_EVENTS or name in WORKER_UNMAPPED


def wwebjs(body: dict[str, Any]) -> bool:
    return "event" in body


class Dialect(NamedTuple):
    """One detectable dialect: its NAME, its module in this package, its claims test."""

    name: str
    module: str
    claims: Callable[[dict[str, Any]], bool]


ORDER: tuple[Dialect, ...] = (
    Dialect("wwebjs-api", "wwebjs_api", wwebjs_api),
    Dialect("waha", "waha", waha),
    Dialect("gowa", "gowa", gowa),
    Dialect("evolution", "evolution", evolution),
    Dialect("baileys-api", "baileys_api", baileys_api),
    Dialect("wuzapi", "wuzapi", wuzapi),
    Dialect("device", "device", device),
    Dialect("gateway", "gateway", gateway),
    Dialect("worker", "worker", worker),
    Dialect("wwebjs", "wwebjs", wwebjs),
)
"""Detection order: the first dialect whose test claims a body owns it."""
