"""Normalization rules: unknown events, session resolution, ack numbering, timestamps, decoding, detection."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from hub.ingest.dialects import DIALECT_NAMES, NoDialectMatched, decode_body, normalize, session_id_from_body
from hub.ingest.dialects._common import BAILEYS_ACK, WWEB_ACK, ack_status, iso, parse_time

from .helpers import load, raw

UTC = UTC


def ev(body, session_id="S"):
    return normalize(body, session_id=session_id)


# --------------------------------------------------------------------------- unknown events

UNKNOWN_BODIES = {
    "wwebjs": {"event": "some_new_event", "data": {"x": 1}},
    "worker": {"event": "creds.update", "data": {"me": {"id": "1@s.whatsapp.net"}}},
    "gateway": {"event": "instance.deleted", "instanceId": "i1", "timestamp": "2024-01-01T00:00:00Z", "data": {}},
    "device": {"device": {"deviceHash": "d1", "status": "x"}, "event": {"type": "brand_new", "code": "X"}},
    "waha": {"event": "label.upsert", "session": "default", "payload": {"id": "1"}, "engine": "NOWEB"},
    "evolution": {"event": "chats.update", "instance": "loja", "data": [{"id": "1"}]},
    "wwebjs-api": {"dataType": "unread_count", "data": {"chat": {}}, "sessionId": "A"},
    "gowa": {"event": "newsletter.joined", "device_id": "1@s.whatsapp.net", "payload": {}},
    "wuzapi": {"type": "HistorySync", "event": {}, "instanceName": "loja", "userID": "u"},
    "baileys-api": {"type": "call_terminate", "body": {"id": "c"}, "instanceKey": "k"},
}


def test_every_dialect_has_an_unknown_case() -> None:
    assert sorted(UNKNOWN_BODIES) == sorted(DIALECT_NAMES)


@pytest.mark.parametrize("dialect", sorted(UNKNOWN_BODIES))
def test_unknown_event_in_known_dialect_is_gateway_unknown_with_original_body(dialect: str) -> None:
    body = UNKNOWN_BODIES[dialect]
    original = copy.deepcopy(body)
    e = ev(body)
    assert (e.dialect, e.type, e.lifecycle) == (dialect, "gateway.unknown", None)
    assert e.data == {"body": original}
    assert e.source_event


@pytest.mark.parametrize(
    "body",
    [
        {"event": "change_state", "data": {"state": "SOMETHING_NEW"}},  # unmapped state
        {"event": "message_ack", "data": {"id": {"_serialized": "true_1@c.us_A"}, "ack": 9}},  # unmapped ack
        {"event": "session.status", "session": "s", "payload": {"status": "EXPLODED"}},  # WAHA unmapped status
    ],
)
def test_unmappable_value_is_gateway_unknown(body) -> None:
    assert ev(body).type == "gateway.unknown"


@pytest.mark.parametrize(
    "body",
    [
        None,
        1,
        "x",
        [],
        [{"event": "qr", "data": {"qr": "1"}}],
        {},
        {"foo": "bar"},
        {"connection": "open"},  # raw Baileys event: no envelope
        {"data": {"qr": "x"}},
    ],
)
def test_body_matching_no_dialect(body) -> None:
    with pytest.raises(NoDialectMatched) as exc:
        ev(body)
    assert "wwebjs" in exc.value.expected and "evolution" in exc.value.expected
    assert isinstance(exc.value.details, list)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"event": "messages.upsert", "instance": 5, "data": {}}, "instance"),  # evolution, bad type
        ({"event": "message", "session": "s", "payload": "nope"}, "payload"),  # waha
        ({"dataType": 3, "sessionId": "A"}, "dataType"),  # wwebjs-api
        ({"type": "QR", "event": "code", "instanceName": "x"}, "qrCodeBase64"),  # wuzapi, missing QR
        ({"event": "qr", "data": {"qr": 123}}, "data.qr"),  # wwebjs inner type
        ({"event": "message.ack", "session": "s", "payload": {"id": "x"}}, "payload.ack"),  # waha: misses ack
    ],
)
def test_claimed_but_invalid_body_names_its_fields_and_is_not_stolen(body, field) -> None:
    with pytest.raises(NoDialectMatched) as exc:
        ev(body)
    assert any(d["field"] == field for d in exc.value.details), exc.value.details


def test_bare_event_without_data_is_rejected_but_known_names_pass() -> None:
    with pytest.raises(NoDialectMatched):
        ev({"event": "whatever"})
    assert ev({"event": "ready"}).lifecycle.status.value == "session_connected"


# --------------------------------------------------------------------------- sessions


def test_path_session_wins_over_body_session() -> None:
    body = load("dialects/waha/message.json")
    assert session_id_from_body(body) == "default"
    assert normalize(body, session_id="from-path").session_id == "from-path"
    assert normalize(body, session_id=None).session_id == "default"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"event": "qr", "data": {"qr": "1@x"}}, "sessionId"),  # wwebjs: path only
        ({"event": "qr_ready", "data": {"qrCode": "data:image/png;base64,AA"}}, "sessionId"),  # worker: path only
        ({"dataType": "ready"}, "sessionId"),  # wwebjs-api, no sessionId
        ({"device": {"status": "connected"}, "event": {"type": "connected"}}, "device.deviceHash"),
        ({"event": "message", "device_id": "", "payload": {}}, "device_id"),
        ({"type": "Connected", "event": {}, "instanceName": ""}, "instanceName"),
    ],
)
def test_missing_session_in_body_only_mode(body, field) -> None:
    with pytest.raises(NoDialectMatched) as exc:
        normalize(body, session_id=None)
    assert exc.value.details[0]["field"] == field
    assert "session" in exc.value.details[0]["message"].lower() or field in exc.value.details[0]["message"]
    assert normalize(body, session_id="p").session_id == "p"


def test_device_number_hash_and_gowa_session_id_fallback() -> None:
    body = {"device": {"numberHash": "n1"}, "event": {"type": "connected", "devices": []}}
    assert normalize(body, session_id=None).session_id == "n1"
    gowa = load("dialects/go-whatsapp-web-multidevice/message.json")
    assert session_id_from_body(gowa) == "org_2"
    del gowa["session_id"]
    assert session_id_from_body(gowa) == "5511988887777@s.whatsapp.net"


# --------------------------------------------------------------------------- acks


@pytest.mark.parametrize(
    "value, status",
    [
        (-1, "failed"),
        (0, "pending"),
        (1, "sent"),
        (2, "delivered"),
        (3, "read"),
        (4, "played"),
        (5, None),
        ("3", "read"),
    ],
)
def test_wwebjs_ack_numbering(value, status) -> None:
    assert ack_status(value, WWEB_ACK) == status


@pytest.mark.parametrize(
    "value, status",
    [
        (0, "failed"),
        (1, "pending"),
        (2, "sent"),
        (3, "delivered"),
        (4, "read"),
        (5, "played"),
        (-1, None),
        ("DELIVERY_ACK", "delivered"),
        ("SERVER_ACK", "sent"),
        ("ERROR", "failed"),
        ("PLAYED", "played"),
    ],
)
def test_baileys_evolution_status_numbering(value, status) -> None:
    assert ack_status(value, BAILEYS_ACK) == status


def _wwebjs_ack(ack):
    return {"event": "message_ack", "data": {"message": {"id": {"_serialized": "true_1@c.us_A"}}, "ack": ack}}


def _evolution_update(status):
    return {
        "event": "messages.update",
        "instance": "i",
        "data": {"keyId": "A", "remoteJid": "1@s.whatsapp.net", "fromMe": True, "status": status},
    }


def _gowa_ack(receipt):
    return {"event": "message.ack", "device_id": "d", "payload": {"ids": ["A", "B"], "receipt_type": receipt}}


def _wuzapi_receipt(state):
    return {
        "type": "ReadReceipt",
        "state": state,
        "event": {"MessageIDs": ["A"], "Chat": "1@s.whatsapp.net"},
        "instanceName": "i",
        "userID": "u",
    }


def _waha_ack(ack):
    return {"event": "message.ack", "session": "s", "payload": {"id": "true_1@c.us_A", "ack": ack}}


def _wwebjs_api_ack(ack):
    return {
        "dataType": "message_ack",
        "sessionId": "A",
        "data": {"message": {"id": {"fromMe": True, "remote": "1@c.us", "id": "A"}, "ack": ack}, "ack": ack},
    }


def _worker_update(status):
    return {
        "event": "messages.update",
        "data": [{"key": {"remoteJid": "1@s.whatsapp.net", "fromMe": True, "id": "A"}, "update": {"status": status}}],
    }


@pytest.mark.parametrize(
    "body, status",
    [
        (_wwebjs_ack(3), "read"),
        (_wwebjs_ack(2), "delivered"),
        (_wwebjs_ack(-1), "failed"),
        (_wwebjs_ack(4), "played"),
        (_wwebjs_api_ack(3), "read"),
        (_wwebjs_api_ack(1), "sent"),
        (_waha_ack(3), "read"),
        (_waha_ack(0), "pending"),
        (_evolution_update(4), "read"),
        (_evolution_update(3), "delivered"),
        (_evolution_update("READ"), "read"),
        (_evolution_update("SERVER_ACK"), "sent"),
        (_evolution_update(0), "failed"),
        (_worker_update(4), "read"),
        (_worker_update(5), "played"),
        (_worker_update(2), "sent"),
        (_gowa_ack("read"), "read"),
        (_gowa_ack("read-self"), "read"),
        (_gowa_ack("delivered"), "delivered"),
        (_gowa_ack("played"), "played"),
        (_wuzapi_receipt("Read"), "read"),
        (_wuzapi_receipt("ReadSelf"), "read"),
        (_wuzapi_receipt("Delivered"), "delivered"),
    ],
)
def test_ack_numbering_per_dialect(body, status) -> None:
    e = ev(body)
    assert e.type == "message.updated"
    assert e.data["status"] == status
    assert e.data["messageId"] == ("true_1@c.us_A" if e.dialect in ("wwebjs", "wwebjs-api", "waha") else "A")
    assert "ack" in e.data


def test_evolution_deleted_status_is_a_revoke() -> None:
    assert ev(_evolution_update("DELETED")).type == "message.revoked"


# --------------------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    "value, expected",
    [
        (1735732800, datetime(2025, 1, 1, 12, 0, tzinfo=UTC)),
        (1735732800789, datetime(2025, 1, 1, 12, 0, 0, 789000, tzinfo=UTC)),
        (1735732800.5, datetime(2025, 1, 1, 12, 0, 0, 500000, tzinfo=UTC)),
        ("1735732800", datetime(2025, 1, 1, 12, 0, tzinfo=UTC)),
        ("1735732800789", datetime(2025, 1, 1, 12, 0, 0, 789000, tzinfo=UTC)),
        (1735732800789000, datetime(2025, 1, 1, 12, 0, 0, 789000, tzinfo=UTC)),  # microseconds
        ("2025-01-01T12:00:00Z", datetime(2025, 1, 1, 12, 0, tzinfo=UTC)),
        ("2025-01-01T09:00:00-03:00", datetime(2025, 1, 1, 12, 0, tzinfo=UTC)),
        ("2025-01-01T12:00:00.123456789Z", datetime(2025, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)),  # Go RFC3339Nano
        ("2025-01-01T12:00:00", datetime(2025, 1, 1, 12, 0, tzinfo=UTC)),  # naive -> UTC
        ({"low": 1735732800, "high": 0, "unsigned": False}, datetime(2025, 1, 1, 12, 0, tzinfo=UTC)),  # protobuf Long
        ("0001-01-01T00:00:00Z", None),
        (0, None),
        (-5, None),
        (True, None),
        (None, None),
        ("...", None),
        ("not a date", None),
        (float("inf"), None),
        (float("nan"), None),
        (10**30, None),
        ([], None),
        ("", None),
    ],
)
def test_parse_time(value, expected) -> None:
    got = parse_time(value)
    assert got == expected
    assert got is None or got.tzinfo is not None


def test_seconds_and_milliseconds_give_the_same_occurred_at() -> None:
    seconds = ev({"event": "message", "data": {"message": {"id": "m", "timestamp": 1735732800}}})
    millis = ev({"event": "message", "data": {"message": {"id": "m", "timestamp": 1735732800000}}})
    waha = load("dialects/waha/message.json")  # envelope timestamp in ms
    assert seconds.occurred_at == millis.occurred_at == datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert ev(waha).occurred_at == datetime(2025, 1, 1, 12, 0, 0, 789000, tzinfo=UTC)
    assert seconds.data["timestamp"] == "2025-01-01T12:00:00.000Z"
    assert iso(1735732800789) == "2025-01-01T12:00:00.789Z"


def test_envelope_time_wins_over_payload_time_and_absent_time_is_none() -> None:
    e = ev(
        {
            "event": "message",
            "data": {"message": {"id": "m", "timestamp": 1735732800}},
            "timestamp": "2024-10-01T12:00:00.000Z",
        }
    )
    assert e.occurred_at == datetime(2024, 10, 1, 12, 0, tzinfo=UTC)
    assert ev({"event": "ready", "data": {}}).occurred_at is None


# --------------------------------------------------------------------------- lifecycle mapping


@pytest.mark.parametrize(
    "state, status",
    [
        ("CONNECTED", "session_connected"),
        ("connecting", "connecting"),
        ("OPENING", "reconnecting"),
        ("PAIRING", "reconnecting"),
        ("TIMEOUT", "reconnecting"),
        ("CONFLICT", "error"),
        ("UNLAUNCHED", "session_not_connected"),
        ("UNPAIRED", "logged_out"),
        ("UNPAIRED_IDLE", "logged_out"),
        ("TOS_BLOCK", "error"),
    ],
)
def test_wwebjs_change_state(state, status) -> None:
    assert ev({"event": "change_state", "data": {"state": state}}).lifecycle.status.value == status


@pytest.mark.parametrize(
    "reason, status, normalized",
    [
        ("LOGOUT", "logged_out", "LOGOUT"),
        ("NAVIGATION", "session_not_connected", "NAVIGATION"),
        ("Max qrcode retries reached", "session_not_connected", "max_qr_attempts_reached"),
        ("CONFLICT", "error", "CONFLICT"),
    ],
)
def test_wwebjs_disconnected_reasons(reason, status, normalized) -> None:
    life = ev({"dataType": "disconnected", "data": {"reason": reason}, "sessionId": "A"}).lifecycle
    assert (life.status.value, life.reason) == (status, normalized)


def test_waha_starting_is_reconnecting_only_after_working() -> None:
    def waha(history):
        return {
            "event": "session.status",
            "session": "s",
            "payload": {"status": "STARTING", "statuses": [{"status": s} for s in history]},
        }

    assert ev(waha(["STOPPED", "STARTING"])).lifecycle.status.value == "connecting"
    assert ev(waha(["WORKING", "STARTING"])).lifecycle.status.value == "reconnecting"
    assert (
        ev({"event": "session.status", "session": "s", "payload": {"status": "FAILED"}}).lifecycle.status.value
        == "error"
    )


def test_evolution_qr_limit_and_refused() -> None:
    limit = ev(
        {
            "event": "qrcode.updated",
            "instance": "i",
            "data": {"message": "QR code limit reached, please login again", "statusCode": 500},
        }
    )
    assert (limit.type, limit.lifecycle.status.value, limit.lifecycle.reason) == (
        "session.status",
        "auth_failure",
        "max_qr_attempts_reached",
    )
    refused = ev({"event": "connection.update", "instance": "i", "data": {"state": "refused", "statusReason": 428}})
    assert refused.lifecycle.status.value == "auth_failure"
    closed = ev({"event": "CONNECTION_UPDATE", "instance": "i", "data": {"state": "close", "statusReason": 428}})
    assert (closed.lifecycle.status.value, closed.lifecycle.reason) == ("session_not_connected", "connection_closed")


def test_loading_percent_is_clamped_and_message_kept() -> None:
    life = ev({"event": "loading_screen", "data": {"percent": 140.6, "message": "WhatsApp"}}).lifecycle
    assert (life.status.value, life.loading_percent, life.message) == ("loading", 100, "WhatsApp")


def test_worker_and_wwebjs_told_apart_by_event_name_and_shape() -> None:
    assert ev({"event": "connected", "data": {}}).dialect == "worker"
    assert ev({"event": "ready", "data": {}}).dialect == "wwebjs"
    assert ev({"event": "disconnected", "data": {"reason": "NAVIGATION"}}).dialect == "wwebjs"
    assert (
        ev({"event": "disconnected", "data": {"reason": "manual_disconnection", "timestamp": "x"}}).dialect == "worker"
    )
    baileys_msg = {
        "key": {"remoteJid": "1@s.whatsapp.net", "fromMe": True, "id": "A"},
        "message": {"conversation": "hi"},
    }
    sent = ev({"event": "message", "data": baileys_msg})
    assert (sent.dialect, sent.type, sent.data["body"]) == ("worker", "message.sent", "hi")
    assert ev({"event": "message", "data": {"message": {"id": "m", "fromMe": True}}}).type == "message.sent"


def test_reactions_and_revokes_inside_baileys_messages() -> None:
    reaction = {
        "key": {"remoteJid": "1@s.whatsapp.net", "fromMe": False, "id": "R"},
        "messageType": "reactionMessage",
        "message": {"reactionMessage": {"key": {"id": "TARGET"}, "text": ""}},
    }
    e = ev({"event": "messages.upsert", "instance": "i", "data": reaction})
    assert (e.type, e.data["messageId"], e.data["removed"]) == ("message.reaction", "TARGET", True)
    revoke = {
        "key": {"remoteJid": "1@s.whatsapp.net", "fromMe": False, "id": "P"},
        "message": {"protocolMessage": {"key": {"id": "GONE"}, "type": 0}},
    }
    e = ev({"type": "message", "body": revoke, "instanceKey": "k"})
    assert (e.type, e.data["messageId"]) == ("message.revoked", "GONE")


# --------------------------------------------------------------------------- decode_body


def test_decode_json_fixture_bytes() -> None:
    assert decode_body(raw("dialects/waha/message.json"), "application/json") == load("dialects/waha/message.json")
    assert decode_body(b'\xef\xbb\xbf{"a": 1}', None) == {"a": 1}  # BOM tolerated


def test_wuzapi_form_mode_round_trip() -> None:
    post = load("dialects/wuzapi/Message.json")
    session = {"instanceName": post.pop("instanceName"), "userID": post.pop("userID")}
    form = urlencode({"jsonData": json.dumps(post), **session}).encode()
    body = decode_body(form, "application/x-www-form-urlencoded; charset=utf-8")
    assert body == {"jsonData": post, **session}
    e = normalize(body, session_id=None)
    assert (e.dialect, e.type, e.session_id, e.data["messageId"]) == (
        "wuzapi",
        "message.received",
        "loja-01",
        "3EB0A1B2C3D4E5F6A7B8",
    )
    old = decode_body(urlencode({"jsonData": json.dumps(post), "token": "t"}).encode(), None)  # sniffed, old build
    assert normalize(old, session_id="p").type == "message.received"
    with pytest.raises(NoDialectMatched) as exc:
        normalize(old, session_id=None)
    assert exc.value.details[0]["field"] == "instanceName"


@pytest.mark.parametrize(
    "data, content_type",
    [
        (b"", "application/json"),
        (b"{", None),
        (b"\xff\xfe", "application/json"),
        (b"NaN", None),
        (b'{"a": Infinity}', None),
        (b"[" * 100_000 + b"]" * 100_000, None),
        (b"1" * 5000, None),
        (b"jsonData=%7B", "application/x-www-form-urlencoded"),
        (b"jsonData=%FF", "application/x-www-form-urlencoded"),
    ],
)
def test_decode_body_raises_value_error(data, content_type) -> None:
    with pytest.raises(ValueError):
        decode_body(data, content_type)
