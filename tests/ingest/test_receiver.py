"""The gateway receiver: authentication, dialects, state, dedupe, ordering, errors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import subprocess
import threading
from datetime import UTC, datetime

import pytest

from hub.ingest import dialects, receiving
from hub.ingest import store as event_store
from hub.platform import ddb
from hub.sessions import store as session_store


@pytest.fixture
def session(api, tenant):
    created = api.create_session(tenant["apiKey"], sessionId="wa-1", userId="owner-1")
    return {**created, "apiKey": tenant["apiKey"]}


def post_event(api, session, body, *, path_session=True, sign=True, headers=None):
    raw = json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **(headers or {})}
    if sign:
        sent["X-Webhook-Signature"] = hmac.new(session["inboundSecret"].encode(), raw, hashlib.sha256).hexdigest()
    target = "/api/whatsapp/webhook/" + session["receiverHandle"] if path_session else "/api/whatsapp/webhook"
    return api.call("POST", target, raw=raw, headers=sent)


def status_of(api, session):
    return api.call("GET", f"/api/whatsapp/session/status/{session['sessionId']}", api_key=session["apiKey"]).data


def test_qr_event_sets_qr_and_png_image(api, session):
    reply = post_event(api, session, {"event": "qr", "data": {"qr": "1@ABC,def,ghi"}})
    assert reply.status == 200
    assert reply.data["event"] == "session.qr" and reply.data["duplicate"] is False
    assert reply.data["eventId"].startswith("evt_")
    status = status_of(api, session)
    assert (status["status"], status["qr"], status["needsQR"], status["qrAttempts"]) == (
        "qr_generated",
        "1@ABC,def,ghi",
        True,
        1,
    )
    assert status["qrImage"].startswith("data:image/png;base64,")
    assert status["message"] == "QR code generated, scan to connect"


@pytest.mark.skipif(
    shutil.which("zbarimg") is None, reason="zbarimg (Debian zbar-tools) is not installed: `make tools` installs it"
)
def test_qr_image_decodes_back_to_the_exact_string(api, session, tmp_path):
    text = "2@Y2xtZ2ZtY2VqZnRoc2R3bGZ3ZWxmc2RmbGtzamRm,sL0mXyGQ5yTqvM3n3D0Qf4m7l1k2Vq9r8yW6tC5bA0E=,9pDq3yQ0m1n2b3v4c5x6z7a8s9d0f1g2h3j4k5l6m7E="
    post_event(api, session, {"event": "qr", "data": {"qr": text}})
    image = status_of(api, session)["qrImage"]
    png = tmp_path / "qr.png"
    png.write_bytes(base64.b64decode(image.split(",", 1)[1]))
    decoded = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True, check=True
    ).stdout
    assert decoded.rstrip("\n") == text


def test_gateway_supplied_qr_image_is_kept(api, session):
    image = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    post_event(api, session, {"event": "qr_ready", "data": {"qrCode": image, "attempts": 1}})
    status = status_of(api, session)
    assert status["status"] == "qr_generated" and status["qrImage"] == image


def test_connected_then_summary_counts_follow(api, session):
    post_event(api, session, {"event": "qr", "data": {"qr": "1@A"}})
    post_event(api, session, {"event": "connected", "data": {"phoneNumber": "6281234", "displayName": "Shop"}})
    status = status_of(api, session)
    assert (status["status"], status["isConnected"], status["qr"], status["qrImage"]) == (
        "session_connected",
        True,
        None,
        None,
    )
    assert (status["phoneNumber"], status["displayName"]) == ("6281234", "Shop")
    listing = api.call("GET", "/api/whatsapp/session/list-realtime", api_key=session["apiKey"]).json
    assert listing["summary"] == {"connected": 1, "needsQR": 0, "loading": 0, "error": 0, "disconnected": 0, "total": 1}
    connected = api.call(
        "GET", "/api/whatsapp/session/list-realtime?status=connected&userId=owner-1", api_key=session["apiKey"]
    ).json
    assert [s["sessionId"] for s in connected["data"]] == ["wa-1"] and connected["summary"]["total"] == 1


def test_too_many_qr_codes_auto_disconnect(api, session):
    for n in range(4):
        post_event(api, session, {"event": "qr", "data": {"qr": f"1@{n}"}})
    status = status_of(api, session)
    assert (status["status"], status["reason"], status["needsQR"]) == (
        "session_not_connected",
        "max_qr_attempts_reached",
        False,
    )


def test_duplicate_is_applied_once(api, session):
    body = {"event": "ready", "data": {}, "timestamp": 1735732790}
    first, second = post_event(api, session, body), post_event(api, session, body)
    assert first.data["duplicate"] is False and second.data["duplicate"] is True
    assert first.data["eventId"] == second.data["eventId"]
    usage = api.call("GET", "/api/usage?days=1", api_key=session["apiKey"]).data
    assert usage["totals"]["eventsReceived"] == 1


def test_same_body_on_another_session_is_not_a_duplicate(api, session):
    other = api.create_session(session["apiKey"], sessionId="wa-2")
    body = {"event": "ready", "data": {}}
    assert post_event(api, session, body).data["duplicate"] is False
    assert post_event(api, {**other, "apiKey": session["apiKey"]}, body).data["duplicate"] is False


def test_late_event_is_kept_but_does_not_roll_back(api, session):
    post_event(api, session, {"event": "ready", "data": {}, "timestamp": 1735732800})
    late = post_event(api, session, {"event": "qr", "data": {"qr": "1@late"}, "timestamp": 1735732700})
    assert late.status == 200 and late.data["duplicate"] is False
    status = status_of(api, session)
    assert status["status"] == "session_connected" and status["qr"] is None
    assert len(recorded_events(session)) == 2


def recorded_events(session) -> list:
    return ddb.client().scan(
        TableName=ddb.name(event_store.TABLE),
        FilterExpression="sessionId = :s",
        ExpressionAttributeValues=ddb.values(s=session["sessionId"]),
    )["Items"]


def test_concurrent_copies_of_one_event_apply_once(api, tenant, session):
    record = session_store.get(tenant["tenantId"], session["sessionId"])
    event = dialects.normalize({"event": "ready", "data": {}}, session_id=session["sessionId"])
    receipts, failures = [], []
    barrier = threading.Barrier(4)

    def deliver():
        barrier.wait()
        try:
            receipts.append(receiving.receive(record, event, b'{"event":"ready","data":{}}', datetime.now(UTC)))
        except Exception as error:
            failures.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(r.duplicate for r in receipts) == [False, True, True, True]
    assert session_store.get(tenant["tenantId"], session["sessionId"]).version == record.version + 1


@pytest.mark.parametrize("credential", ["hmac-sha256", "waha-sha512", "hub-signature", "token", "api-key"])
def test_every_gateway_credential_is_accepted(api, session, credential):
    raw = json.dumps({"event": "ready", "data": {}}).encode()
    secret = session["inboundSecret"].encode()
    headers, query = {"Content-Type": "application/json"}, ""
    if credential == "hmac-sha256":
        headers["X-Webhook-Signature"] = hmac.new(secret, raw, hashlib.sha256).hexdigest()
    elif credential == "waha-sha512":
        headers.update(
            {"X-Webhook-Hmac": hmac.new(secret, raw, hashlib.sha512).hexdigest(), "X-Webhook-Hmac-Algorithm": "sha512"}
        )
    elif credential == "hub-signature":
        headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()
    elif credential == "token":
        query = "?token=" + session["inboundSecret"]
    else:
        headers["X-Api-Key"] = session["inboundSecret"]
    reply = api.call("POST", f"/api/whatsapp/webhook/{session['receiverHandle']}{query}", raw=raw, headers=headers)
    assert reply.status == 200, reply.raw


@pytest.mark.parametrize("headers", [{}, {"X-Webhook-Signature": "00" * 32}, {"X-Hub-Signature-256": "sha256=zz"}])
def test_bad_or_missing_credentials_are_401_and_write_nothing(api, session, headers):
    reply = post_event(api, session, {"event": "ready", "data": {}}, sign=False, headers=headers)
    assert (reply.status, reply.error_code) == (401, "INVALID_SIGNATURE")
    assert status_of(api, session)["status"] == "initializing"
    assert recorded_events(session) == []


def test_an_unknown_session_is_refused_like_a_bad_credential(api, session):
    reply = api.call("POST", "/api/whatsapp/webhook/nobody", body={"event": "ready", "data": {}})
    assert (reply.status, reply.error_code) == (401, "INVALID_SIGNATURE")


def test_body_of_no_dialect_is_400_naming_what_was_expected(api, session):
    reply = post_event(api, session, {"hello": "world"})
    assert (reply.status, reply.error_code) == (400, "VALIDATION_ERROR")
    assert "wwebjs" in reply.json["error"]["message"]
    assert status_of(api, session)["status"] == "initializing"
    assert recorded_events(session) == []


def test_unknown_event_of_a_known_dialect_is_gateway_unknown(api, session):
    reply = post_event(api, session, {"event": "some_future_event", "data": {"x": 1}})
    assert reply.status == 200 and reply.data["event"] == "gateway.unknown"


def test_invalid_json_and_oversized_bodies(api, session):
    raw = b"{not json"
    signature = hmac.new(session["inboundSecret"].encode(), raw, hashlib.sha256).hexdigest()
    reply = api.call(
        "POST",
        "/api/whatsapp/webhook/" + session["receiverHandle"],
        raw=raw,
        headers={"Content-Type": "application/json", "X-Webhook-Signature": signature},
    )
    assert (reply.status, reply.error_code) == (400, "INVALID_JSON")
    big = post_event(api, session, {"event": "message", "data": {"body": "x" * 300_000}})
    assert (big.status, big.error_code) == (413, "PAYLOAD_TOO_LARGE")


def test_session_carried_in_the_body(api, session):
    body = {
        "event": "session.status",
        "session": "wa-1",
        "payload": {"name": "wa-1", "status": "WORKING"},
        "id": "evt_waha_1",
        "timestamp": 1735732790123,
        "engine": "NOWEB",
    }
    # a signature alone cannot say whose `wa-1` this is: the session's inbound secret in clear names it
    unnamed = post_event(api, session, body, path_session=False)
    assert (unnamed.status, unnamed.error_code) == (401, "INVALID_SIGNATURE")
    named = {"X-Api-Key": session["inboundSecret"]}
    reply = post_event(api, session, body, path_session=False, headers=named)
    assert reply.status == 200, reply.raw
    assert status_of(api, session)["status"] == "session_connected"
    missing = post_event(api, session, {"event": "ready", "data": {}}, path_session=False, headers=named)
    assert (missing.status, missing.error_code) == (400, "VALIDATION_ERROR")
    other = post_event(api, session, {**body, "session": "wa-2"}, path_session=False, headers=named)
    assert (other.status, other.error_code) == (401, "INVALID_SIGNATURE")  # the secret names wa-1, not wa-2


def test_verification_echoes_the_challenge(api, session):
    ok = api.call(
        "GET",
        f"/api/whatsapp/webhook/{session['receiverHandle']}?hub.verify_token={session['inboundSecret']}&hub.challenge=12345",
    )
    assert (ok.status, ok.raw) == (200, b"12345")
    assert (
        api.call(
            "GET", f"/api/whatsapp/webhook/{session['receiverHandle']}?hub.verify_token=wrong&hub.challenge=1"
        ).status
        == 403
    )
    assert api.call("GET", "/api/whatsapp/webhook/nobody?hub.verify_token=x&hub.challenge=1").status == 403
