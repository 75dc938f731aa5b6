"""Input that cannot hurt: auth before body work, bounded nesting, any text, QR limits (no 5xx, nothing recorded)."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from hub.ingest import store as event_store
from hub.platform import ddb
from hub.sessions import qr

DEEP = b"[" * 10_000 + b"]" * 10_000
DEEP_OBJECT = b'{"event":"message","data":' + b'{"a":' * 10_000 + b"1" + b"}" * 10_001
PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
SVG = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIG9ubG9hZD0iYWxlcnQoMSkiLz4="


@pytest.fixture
def session(api, tenant):
    return {**api.create_session(tenant["apiKey"], sessionId="wa-1"), "apiKey": tenant["apiKey"]}


def recorded() -> list[dict]:
    items = ddb.client().scan(
        TableName=ddb.name(event_store.TABLE),
        FilterExpression="sessionId = :s",
        ExpressionAttributeValues=ddb.values(s="wa-1"),
    )["Items"]
    return [json.loads(event_store.from_item(item).payload) for item in items]


def post_raw(api, session, raw: bytes, path: str | None = None):
    signature = hmac.new(session["inboundSecret"].encode(), raw, hashlib.sha256).hexdigest()
    return api.call(
        "POST",
        path or "/api/whatsapp/webhook/" + session["receiverHandle"],
        raw=raw,
        headers={"Content-Type": "application/json", "X-Webhook-Signature": signature},
    )


@pytest.mark.parametrize("raw", [DEEP, DEEP_OBJECT], ids=["array", "object"])
def test_deep_nesting_is_a_400_on_every_json_route_and_auth_comes_first(api, session, raw):
    json_headers = {"Content-Type": "application/json"}
    for method, path in [
        ("POST", "/api/whatsapp/session"),
        ("POST", "/api/webhook/test"),
        ("DELETE", "/api/webhook/logs"),
    ]:
        assert api.call(method, path, raw=raw, headers=json_headers).error_code == "UNAUTHORIZED"
        reply = api.call(method, path, raw=raw, headers=json_headers, api_key=session["apiKey"])
        assert (reply.status, reply.error_code) == (400, "INVALID_JSON"), reply.raw
        assert "at most" in reply.json["error"]["message"]
    assert api.call("POST", "/api/admin/tenants", raw=raw, headers=json_headers).error_code == "UNAUTHORIZED"
    assert (
        api.call("POST", "/api/admin/tenants", raw=raw, headers=json_headers, admin=True).error_code == "INVALID_JSON"
    )
    for path in [
        "/api/whatsapp/webhook/" + session["receiverHandle"],
        "/api/whatsapp/webhook?token=" + session["inboundSecret"],
    ]:
        reply = post_raw(api, session, raw, path)
        assert (reply.status, reply.error_code) == (400, "INVALID_JSON"), reply.raw
    assert recorded() == []


def test_body_checks_come_after_authentication(api, session):
    assert (
        api.call(
            "POST", "/api/whatsapp/session", raw=b"{not json", headers={"Content-Type": "application/json"}
        ).error_code
        == "UNAUTHORIZED"
    )
    assert (
        api.call("POST", "/api/whatsapp/session", raw=b"userId=x", headers={"Content-Type": "text/plain"}).error_code
        == "UNAUTHORIZED"
    )
    assert (
        api.call(
            "POST",
            "/api/whatsapp/session",
            raw=b"userId=x",
            headers={"Content-Type": "text/plain"},
            api_key=session["apiKey"],
        ).status
        == 415
    )


def test_a_lone_surrogate_from_a_gateway_is_carried_as_a_replacement_character(api, session):
    raw = b'{"event":"message","data":{"id":{"_serialized":"false_1@c.us_X"},"from":"1@c.us","body":"hi \\ud83d","type":"chat"}}'
    reply = post_raw(api, session, raw)
    assert reply.status == 200, reply.raw
    assert recorded()[0]["data"]["body"] == "hi \ufffd"
    pair = b'{"event":"message","data":{"id":{"_serialized":"false_1@c.us_Y"},"from":"1@c.us","body":"\\ud83d\\ude00","type":"chat"}}'
    assert post_raw(api, session, pair).status == 200
    assert "\U0001f600" in [p["data"].get("body") for p in recorded()]


def test_a_lone_surrogate_on_a_tenant_route_is_a_400(api, session):
    reply = api.call(
        "POST",
        "/api/whatsapp/session",
        raw=b'{"userId":"\\udc00x"}',
        headers={"Content-Type": "application/json"},
        api_key=session["apiKey"],
    )
    assert (reply.status, reply.error_code) == (400, "VALIDATION_ERROR"), reply.raw


def test_non_characters_in_a_message_are_accepted_and_carried(api, session):
    text = "a\ufffeb\uffffc\U0010ffff"
    body = {
        "event": "message",
        "data": {"id": {"_serialized": "false_1@c.us_Z"}, "from": "1@c.us", "body": text, "type": "chat"},
    }
    for raw in (json.dumps(body).encode(), json.dumps(body, ensure_ascii=False).encode()):
        assert post_raw(api, session, raw).status == 200
    assert recorded()[0]["data"]["body"] == text


def test_a_qr_string_a_qr_code_cannot_hold_is_a_400_naming_the_limit(api, session):
    longest = "2@" + "a" * (qr.MAX_QR_BYTES - 2)
    reply = post_raw(api, session, json.dumps({"event": "qr", "data": {"qr": longest + "a"}}).encode())
    assert (reply.status, reply.error_code) == (400, "VALIDATION_ERROR"), reply.raw
    assert str(qr.MAX_QR_BYTES) in json.dumps(reply.json["error"])
    assert recorded() == []
    accepted = post_raw(api, session, json.dumps({"event": "qr", "data": {"qr": longest}}).encode())
    assert accepted.status == 200, accepted.raw


def qr_image_kept(api, session, image) -> str | None:
    reply = post_raw(api, session, json.dumps({"event": "qr_ready", "data": {"qrCode": image}}).encode())
    assert reply.status == 200, reply.raw
    status = api.call("GET", "/api/whatsapp/session/status/wa-1", api_key=session["apiKey"]).data
    delivered = [p["data"].get("qrImage") for p in recorded() if p["id"] == reply.data["eventId"]]
    assert delivered == [status["qrImage"]]
    return status["qrImage"]


@pytest.mark.parametrize(
    "image",
    [
        SVG,
        "data:image/png;base64," + SVG.split(",", 1)[1],
        "data:image/webp;base64,UklGRg==",
        "data:image/svg+xml;utf8,<svg onload='alert(1)'/>",
        "data:image/png;base64,!!",
    ],
)
def test_gateway_qr_images_other_than_png_jpeg_gif_are_dropped(api, session, image):
    assert qr_image_kept(api, session, image) is None


def test_a_png_qr_image_is_kept(api, session):
    assert qr_image_kept(api, session, PNG) == PNG


@pytest.mark.parametrize("session_id", ["a" * 3000, "\ufffd", "wa-1/../x", ""])
def test_a_session_id_no_session_can_have_is_unknown_without_a_lookup(api, session, session_id, monkeypatch):
    """DynamoDB refuses keys over 2048 bytes (moto does not): such ids are never sent to it."""
    from hub.sessions import store as session_store

    looked_up = []
    real = ddb.client()
    monkeypatch.setattr(session_store.ddb, "client", lambda: looked_up.append(1) or real)
    assert session_store.get("t-1", session_id) is None and session_store.resolve_handle(session_id) is None
    assert looked_up == []
    body = json.dumps({"dataType": "ready", "sessionId": session_id}).encode()
    reply = api.call("POST", "/api/whatsapp/webhook?token=x", raw=body, headers={"Content-Type": "application/json"})
    assert reply.status in (400, 401), reply.raw
