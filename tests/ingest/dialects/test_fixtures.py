"""Every fixture body -> its expected normalized event (explicit table, not just "does not raise")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from hub.ingest.dialects import NoDialectMatched, normalize, session_id_from_body
from hub.ingest.models import NormalizedEvent

from .helpers import fixture_files, load

PATH_SESSION = "path-session"


def starts(prefix: str) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, str) and value.startswith(prefix)


@dataclass(frozen=True)
class Want:
    dialect: str
    type: str
    status: str | None = None
    session: str | None = None
    """The session the body carries (body-only mode works); None: the dialect needs the URL's session."""
    data: dict[str, Any] = field(default_factory=dict)
    life: dict[str, Any] = field(default_factory=dict)
    at: str | None = None
    event_id: str | None = None


REJECT = None
"""The body must raise NoDialectMatched."""

QR_RAW = starts("2@Y2xtZ2Zt")
PNG = starts("data:image/png;base64,iVBOR")
NO_QR = {"qr": None, "qr_image": None}

EVO, WAHA, GOWA_DEV, WUZ, WAPI, BAPI, DEV = (
    "loja-01",
    "default",
    "5511988887777@s.whatsapp.net",
    "loja-01",
    "ABCD",
    "3b2f8c1e-6a4d-4f1b-9c2e-7d5a8b0c1e2f",
    "a1b2c3d4e5f67890",
)

EXPECTED: dict[str, Want | None] = {
    # ---- Baileys library events: no webhook envelope (see test_baileys_raw_events_wrapped_as_worker)
    **{
        f"dialects/baileys-raw-events/{n}.json": REJECT
        for n in (
            "connection.update__close",
            "connection.update__open",
            "connection.update__qr",
            "creds.update",
            "messages.reaction",
            "messages.update",
            "messages.upsert",
            "presence.update",
        )
    },
    # ---- baileys-api (salman0ansari/whatsapp-api-nodejs)
    "dialects/baileys-whatsapp-api-nodejs/call_offer.json": Want(
        "baileys-api",
        "call.received",
        session=BAPI,
        at="2025-01-01T12:03:20",
        data={"callId": "9C4B1A2D3E4F5A6B7C8D9E0F1A2B3C4D", "from": "5511999990000@s.whatsapp.net"},
    ),
    "dialects/baileys-whatsapp-api-nodejs/connection.json": Want(
        "baileys-api", "session.status", "session_connected", session=BAPI, data={"state": "open"}
    ),
    "dialects/baileys-whatsapp-api-nodejs/message.json": Want(
        "baileys-api",
        "message.received",
        session=BAPI,
        at="2025-01-01T12:00:00",
        data={
            "messageId": "3EB0A1B2C3D4E5F6A7B8",
            "chatId": "5511999990000@s.whatsapp.net",
            "fromMe": False,
            "body": "Olá, tudo bem?",
            "type": "text",
            "pushName": "Maria",
        },
    ),
    # ---- Evolution API
    "dialects/evolution-api/connection.update__close.json": Want(
        "evolution",
        "session.status",
        "logged_out",
        session=EVO,
        at="2025-01-02T10:15:00",
        data={"statusReason": 401},
        life={"reason": "logged_out"},
    ),
    "dialects/evolution-api/connection.update__open.json": Want(
        "evolution",
        "session.status",
        "session_connected",
        session=EVO,
        at="2025-01-01T08:59:59.450000",
        life={"phone_number": "5511988887777", "display_name": "Minha Loja"},
    ),
    "dialects/evolution-api/messages.update.json": Want(
        "evolution",
        "message.updated",
        session=EVO,
        data={"messageId": "3EB0F00DBABE12345678", "status": "read", "ack": "READ", "fromMe": True},
    ),
    "dialects/evolution-api/messages.upsert.json": Want(
        "evolution",
        "message.received",
        session=EVO,
        at="2025-01-01T09:00:00.789000",
        data={
            "messageId": "3EB0A1B2C3D4E5F6A7B8",
            "body": "Olá, tudo bem?",
            "type": "text",
            "fromMe": False,
            "timestamp": "2025-01-01T12:00:00.000Z",
        },
    ),
    "dialects/evolution-api/qrcode.updated.json": Want(
        "evolution", "session.qr", "qr_generated", session=EVO, life={"qr": QR_RAW, "qr_image": PNG}
    ),
    # ---- GOWA
    "dialects/go-whatsapp-web-multidevice/group.participants.json": Want(
        "gowa",
        "group.join",
        session=GOWA_DEV,
        at="2025-01-01T12:05:00",
        data={"chatId": "120363025000000000@g.us", "participants": ["5511977776666@s.whatsapp.net"]},
    ),
    "dialects/go-whatsapp-web-multidevice/message.ack.json": Want(
        "gowa",
        "message.updated",
        session=GOWA_DEV,
        data={"messageId": "3EB0F00DBABE12345678", "status": "read", "ack": "read"},
    ),
    "dialects/go-whatsapp-web-multidevice/message.deleted.json": Want(
        "gowa", "message.revoked", session=GOWA_DEV, data={"messageId": "3EB0A1B2C3D4E5F6A7B8", "forEveryone": False}
    ),
    "dialects/go-whatsapp-web-multidevice/message.json": Want(
        "gowa",
        "message.received",
        session="org_2",
        at="2025-01-01T12:00:00",
        data={
            "messageId": "3EB0A1B2C3D4E5F6A7B8",
            "chatId": "5511999990000@s.whatsapp.net",
            "body": "Olá, tudo bem?",
            "fromMe": False,
            "type": "text",
        },
    ),
    "dialects/go-whatsapp-web-multidevice/message.reaction.json": Want(
        "gowa",
        "message.reaction",
        session=GOWA_DEV,
        at="2025-01-01T12:01:30",
        data={"messageId": "3EB0F00DBABE12345678", "reaction": "👍", "removed": False},
    ),
    # ---- WAHA
    "dialects/waha/message.ack.json": Want(
        "waha",
        "message.updated",
        session=WAHA,
        at="2025-01-01T12:01:15",
        event_id="evt_01jh3k3c3d4e5f6g7h8j9k0m1n",
        data={
            "messageId": "true_5511999990000@c.us_3EB0F00DBABE12345678",
            "status": "read",
            "ack": 3,
            "chatId": "5511999990000@c.us",
        },
    ),
    "dialects/waha/message.json": Want(
        "waha",
        "message.received",
        session=WAHA,
        at="2025-01-01T12:00:00.789000",
        event_id="evt_01jh3k3a1b2c3d4e5f6g7h8j9k",
        data={
            "messageId": "false_5511999990000@c.us_3EB0A1B2C3D4E5F6A7B8",
            "from": "5511999990000@c.us",
            "to": "5511988887777@c.us",
            "chatId": "5511999990000@c.us",
            "body": "Olá, tudo bem?",
            "fromMe": False,
            "type": "text",
        },
    ),
    "dialects/waha/message.reaction.json": Want(
        "waha",
        "message.reaction",
        session=WAHA,
        event_id="evt_01jh3k3d4e5f6g7h8j9k0m1n2p",
        data={"messageId": "true_5511999990000@c.us_3EB0F00DBABE12345678", "reaction": "👍"},
    ),
    "dialects/waha/session.status__SCAN_QR_CODE.json": Want(
        "waha",
        "session.qr",
        "qr_generated",
        session=WAHA,
        at="2025-01-01T11:59:50.123000",
        event_id="evt_01jh3k2m4n5p6q7r8s9t0v1w2x",
        life=NO_QR,
        data={"gatewayStatus": "SCAN_QR_CODE"},
    ),
    "dialects/waha/session.status__WORKING.json": Want(
        "waha",
        "session.status",
        "session_connected",
        session=WAHA,
        event_id="evt_01jh3k2rz0a1b2c3d4e5f6g7h8",
        life={"phone_number": "5511988887777", "display_name": "Minha Loja"},
    ),
    # ---- multi-platform status webhook (device)
    "dialects/whatsapp-multi-platform-status/auth_failed.json": Want(
        "device",
        "session.status",
        "auth_failure",
        session=DEV,
        at="2025-08-12T14:20:15.678000",
        life={"reason": "session_expired", "message": "Authentication failed - session expired"},
    ),
    "dialects/whatsapp-multi-platform-status/connected.json": Want(
        "device",
        "session.status",
        "session_connected",
        session=DEV,
        life={"phone_number": "5511988887777", "display_name": "Minha Loja"},
    ),
    "dialects/whatsapp-multi-platform-status/container_event__CONTAINER_START.json": Want(
        "device", "device.event", session=DEV, data={"code": "CONTAINER_START", "deviceStatus": "running"}
    ),
    "dialects/whatsapp-multi-platform-status/login_success.json": Want(
        "device", "session.status", "authenticated", session=DEV, life={"phone_number": "5511988887777"}
    ),
    # ---- wuzapi (JSON mode)
    "dialects/wuzapi/ChatPresence.json": Want(
        "wuzapi",
        "presence.update",
        session=WUZ,
        data={"chatId": "5511999990000@s.whatsapp.net", "presence": "composing"},
    ),
    "dialects/wuzapi/Connected.json": Want("wuzapi", "session.status", "session_connected", session=WUZ),
    "dialects/wuzapi/Message.json": Want(
        "wuzapi",
        "message.received",
        session=WUZ,
        at="2025-01-01T12:00:00",
        data={"messageId": "3EB0A1B2C3D4E5F6A7B8", "body": "Olá, tudo bem?", "fromMe": False, "type": "text"},
    ),
    "dialects/wuzapi/PairSuccess.json": Want(
        "wuzapi", "session.status", "authenticated", session=WUZ, life={"phone_number": "5511988887777"}
    ),
    "dialects/wuzapi/QR.json": Want(
        "wuzapi", "session.qr", "qr_generated", session=WUZ, life={"qr": None, "qr_image": PNG}
    ),
    # ---- wwebjs-api (chrishubert)
    "dialects/wwebjs-api/authenticated.json": Want("wwebjs-api", "session.status", "authenticated", session=WAPI),
    "dialects/wwebjs-api/message.json": Want(
        "wwebjs-api",
        "message.received",
        session=WAPI,
        at="2025-01-01T12:00:00",
        data={
            "messageId": "false_5511999990000@c.us_3EB0A1B2C3D4E5F6A7B8",
            "chatId": "5511999990000@c.us",
            "from": "5511999990000@c.us",
            "to": "5511988887777@c.us",
            "fromMe": False,
            "type": "text",
            "body": "Olá, tudo bem? https://example.com",
        },
    ),
    "dialects/wwebjs-api/message_ack.json": Want(
        "wwebjs-api",
        "message.updated",
        session=WAPI,
        data={"messageId": "true_5511999990000@c.us_3EB0F00DBABE12345678", "status": "read", "ack": 3},
    ),
    "dialects/wwebjs-api/qr.json": Want(
        "wwebjs-api", "session.qr", "qr_generated", session=WAPI, life={"qr": QR_RAW, "qr_image": None}
    ),
    "dialects/wwebjs-api/ready.json": Want("wwebjs-api", "session.status", "session_connected", session=WAPI),
    # ---- seeds/000_*: Baileys worker
    "seeds/000_connected.json": Want("worker", "session.status", "session_connected", life={"display_name": "..."}),
    "seeds/000_disconnected.json": Want(
        "worker", "session.status", "session_not_connected", life={"reason": "manual_disconnection"}
    ),
    "seeds/000_qr_ready.json": Want(
        "worker", "session.qr", "qr_generated", data={"attempts": 1}, life={"qr": None, "qr_image": None}
    ),  # a placeholder, not an image: dropped
    "seeds/000_reconnecting.json": Want("worker", "session.status", "reconnecting"),
    "seeds/000_session_auto_disconnected.json": Want(
        "worker", "session.status", "session_not_connected", life={"reason": "max_qr_attempts_reached"}
    ),
    "seeds/000_session_created.json": Want("worker", "session.status", "initializing"),
    "seeds/000_session_logged_out.json": Want(
        "worker", "session.status", "logged_out", life={"reason": "logged_out_from_phone"}
    ),
    # ---- seeds/001_*: wwebjs
    "seeds/001_auth_failure.json": Want(
        "wwebjs", "session.status", "auth_failure", life={"message": "Invalid QR scan"}
    ),
    "seeds/001_call.json": Want("wwebjs", "call.received", data={"callId": "call_123", "from": "6281234567890@c.us"}),
    "seeds/001_change_state.json": Want("wwebjs", "session.status", "connecting", data={"state": "connecting"}),
    "seeds/001_disconnected.json": Want(
        "wwebjs", "session.status", "session_not_connected", life={"reason": "User logged out"}
    ),
    "seeds/001_loading_screen.json": Want(
        "wwebjs",
        "session.status",
        "loading",
        data={"percent": 75},
        life={"loading_percent": 75, "message": "Loading session..."},
    ),
    "seeds/001_message.json": Want(
        "wwebjs",
        "message.received",
        at="2022-01-01T00:00:00",
        data={
            "messageId": "msg_123",
            "body": "Hello World",
            "from": "6281234567890@c.us",
            "to": "6289876543210@c.us",
            "fromMe": False,
            "timestamp": "2022-01-01T00:00:00.000Z",
        },
    ),
    "seeds/001_message_ack.json": REJECT,  # `"message": {...}` in the source example: no message id to acknowledge
    "seeds/001_qr.json": Want("wwebjs", "session.qr", "qr_generated", life={"qr": "1@ABC123...", "qr_image": None}),
    "seeds/001_ready.json": Want("wwebjs", "session.status", "session_connected"),
    # ---- seeds/002_*: wwebjs (another server; acks follow whatsapp-web.js, not its one-higher table)
    "seeds/002_auth_failure.json": Want(
        "wwebjs", "session.status", "auth_failure", at="2024-10-01T12:00:00", life={"message": "Authentication failed"}
    ),
    "seeds/002_authenticated.json": Want("wwebjs", "session.status", "authenticated"),
    "seeds/002_call.json": Want(
        "wwebjs", "call.received", at="2024-10-01T12:00:00", data={"callId": "call_id", "isVideo": False}
    ),
    "seeds/002_contact_changed.json": Want(
        "wwebjs", "contact.changed", data={"contactId": "1234567890@c.us", "name": "New Name"}
    ),
    "seeds/002_disconnected.json": Want(
        "wwebjs", "session.status", "session_not_connected", life={"reason": "NAVIGATION"}
    ),
    "seeds/002_group_join.json": Want(
        "wwebjs",
        "group.join",
        data={"chatId": "123456789-1234567890@g.us", "participants": ["1234567890@c.us"], "author": "0987654321@c.us"},
    ),
    "seeds/002_group_leave.json": Want("wwebjs", "group.leave", data={"chatId": "123456789-1234567890@g.us"}),
    "seeds/002_group_update.json": Want("wwebjs", "group.update", data={"subject": "New Group Name"}),
    "seeds/002_message_ack.json": Want(
        "wwebjs",
        "message.updated",
        at="2024-10-01T12:00:01",
        data={"messageId": "true_1234567890@c.us_3EB0C9A4B7D8E5F9A2C1", "status": "read", "ack": 3},
    ),
    "seeds/002_message_create.json": Want(
        "wwebjs",
        "message.received",
        data={
            "messageId": "true_1234567890@c.us_3EB0C9A4B7D8E5F9A2C1",
            "body": "Hello!",
            "type": "text",
            "fromMe": False,
        },
    ),
    "seeds/002_message_reaction.json": Want(
        "wwebjs",
        "message.reaction",
        data={"messageId": "true_1234567890@c.us_3EB0C9A4B7D8E5F9A2C1", "from": "1234567890@c.us"},
    ),
    "seeds/002_message_revoke_everyone.json": Want(
        "wwebjs",
        "message.revoked",
        at="2024-10-01T12:01:00",
        data={
            "messageId": "true_1234567890@c.us_3EB0C9A4B7D8E5F9A2C1",
            "forEveryone": True,
            "revokedBy": "1234567890@c.us",
        },
    ),
    "seeds/002_ready.json": Want(
        "wwebjs",
        "session.status",
        "session_connected",
        life={"phone_number": "1234567890", "display_name": "My WhatsApp"},
    ),
    "seeds/002_test.json": Want(
        "wwebjs",
        "gateway.unknown",
        data={"body": {"event": "test", "data": {}, "timestamp": "2024-10-01T12:00:00.000Z"}},
    ),
    # ---- seeds/003_*: gateway
    "seeds/003_message.received.json": Want(
        "gateway",
        "message.received",
        session="xxx",
        at="2024-01-01T00:00:00",
        data={"messageId": "xxx", "chatId": "6281234567890@s.whatsapp.net", "body": "Hello!", "type": "text"},
    ),
    "seeds/003_session.status.json": Want(
        "gateway", "session.status", "session_connected", session="xxx", life={"phone_number": "6283841581033"}
    ),
    # ---- seeds/004_*: device
    "seeds/004_auth_failed.json": Want(
        "device", "session.status", "auth_failure", session=DEV, life={"reason": "session_expired"}
    ),
    "seeds/004_connected.json": Want(
        "device", "session.status", "session_connected", session=DEV, life={"phone_number": None}
    ),
    "seeds/004_container_event__CONTAINER_START.json": Want(
        "device", "device.event", session=DEV, data={"code": "CONTAINER_START"}
    ),
    "seeds/004_container_event__CONTAINER_STOP.json": Want(
        "device", "session.status", "session_not_connected", session=DEV, life={"reason": "manual_stop"}
    ),
    "seeds/004_disconnected.json": Want(
        "device", "session.status", "session_not_connected", session=DEV, at="2025-08-12T16:45:12.345000"
    ),
    "seeds/004_login_success.json": Want(
        "device",
        "session.status",
        "authenticated",
        session=DEV,
        life={"message": "Successfully pair with WhatsApp device"},
    ),
    "seeds/004_string__base_structure.json": Want("device", "gateway.unknown", session="string"),
}


def _match(actual: Any, expected: Any, what: str) -> None:
    if callable(expected):
        assert expected(actual), f"{what}: {actual!r}"
    else:
        assert actual == expected, f"{what}: {actual!r} != {expected!r}"


def check_event(ev: NormalizedEvent, want: Want) -> None:
    assert (ev.dialect, ev.type) == (want.dialect, want.type)
    assert (ev.lifecycle.status.value if ev.lifecycle else None) == want.status
    for key, value in want.data.items():
        _match(ev.data.get(key), value, f"data.{key}")
    for key, value in want.life.items():
        assert ev.lifecycle is not None
        _match(getattr(ev.lifecycle, key), value, f"lifecycle.{key}")
    if want.at is not None:
        assert ev.occurred_at == datetime.fromisoformat(want.at + "+00:00")
    assert ev.gateway_event_id == want.event_id
    if ev.type.startswith("session."):
        assert ev.lifecycle is not None
        assert (ev.type == "session.qr") == (ev.lifecycle.status.value == "qr_generated")
    else:
        assert ev.lifecycle is None
    if ev.type == "message.updated":
        assert ev.data["status"] in ("failed", "pending", "sent", "delivered", "read", "played")
        assert ev.data["messageId"] and "ack" in ev.data


def test_table_covers_every_fixture() -> None:
    assert sorted(EXPECTED) == fixture_files()


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_fixture(rel: str) -> None:
    body, want = load(rel), EXPECTED[rel]
    if want is None:
        with pytest.raises(NoDialectMatched):
            normalize(body, session_id=PATH_SESSION)
        return
    ev = normalize(body, session_id=PATH_SESSION)
    check_event(ev, want)
    assert ev.session_id == PATH_SESSION  # the path wins over the body
    assert ev.source_event
    assert session_id_from_body(body) == want.session
    if want.session is None:
        with pytest.raises(NoDialectMatched) as exc:
            normalize(body, session_id=None)
        assert exc.value.details and exc.value.details[0]["field"] == "sessionId"
    else:
        assert normalize(body, session_id=None).session_id == want.session


WRAPPED: dict[str, Want] = {
    "connection.update__close": Want(
        "worker", "session.status", "logged_out", data={"statusCode": 401}, life={"reason": "logged_out"}
    ),
    "connection.update__open": Want("worker", "session.status", "session_connected"),
    "connection.update__qr": Want("worker", "session.qr", "qr_generated", life={"qr": QR_RAW}),
    "creds.update": Want("worker", "gateway.unknown"),
    "messages.reaction": Want(
        "worker",
        "message.reaction",
        at="2025-01-01T12:01:30.123000",
        data={"messageId": "3EB0F00DBABE12345678", "reaction": "👍"},
    ),
    "messages.update": Want(
        "worker", "message.updated", data={"messageId": "3EB0F00DBABE12345678", "status": "read", "ack": 4}
    ),
    "messages.upsert": Want(
        "worker",
        "message.received",
        data={"messageId": "3EB0A1B2C3D4E5F6A7B8", "body": "Olá, tudo bem?", "pushName": "Maria"},
    ),
    "presence.update": Want("worker", "presence.update", data={"presence": "composing"}),
}


@pytest.mark.parametrize("stem", sorted(WRAPPED))
def test_baileys_raw_events_wrapped_as_worker(stem: str) -> None:
    """Baileys is a library (no envelope); a worker forwarding its events as {event, data} is read as `worker`."""
    body = load(f"dialects/baileys-raw-events/{stem}.json")
    ev = normalize({"event": stem.split("__")[0], "data": body}, session_id=PATH_SESSION)
    check_event(ev, WRAPPED[stem])
