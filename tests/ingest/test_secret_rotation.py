"""Rotation with overlap (issue 12 §4, inbound part): a session's inbound secret and a gateway credential's key
rotate with a window in which both the old and the new one are accepted; the old one stops at the stated
expiry (tested one second before it and at it)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import quote

import pytest

from hub.platform import clock

READY = json.dumps({"event": "ready", "data": {}}).encode()
WWEBJS_API = json.dumps({"dataType": "ready", "sessionId": "ABCD"}).encode()


@pytest.fixture
def now(monkeypatch):
    """The hub's clock, frozen and moved by the test: now[0] is the epoch second the hub sees."""
    moment = [int(time.time())]
    monkeypatch.setattr(clock, "now_epoch", lambda: moment[0])
    return moment


def signed(api, session: dict, secret: str):
    signature = hmac.new(secret.encode(), READY, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Webhook-Signature": signature}
    return api.call("POST", "/api/whatsapp/webhook/" + session["receiverHandle"], raw=READY, headers=headers)


def verify(api, session: dict, secret: str):
    path = f"/api/whatsapp/webhook/{session['receiverHandle']}?hub.verify_token={quote(secret)}&hub.challenge=7"
    return api.call("GET", path)


def rotate_session(api, tenant, body: dict | None = None):
    return api.call(
        "POST", "/api/whatsapp/session/default/rotate-inbound-secret", body=body or {}, api_key=tenant["apiKey"]
    )


def test_an_inbound_secret_rotates_with_an_overlap_that_ends_at_its_stated_expiry(api, tenant, now):
    session = api.create_session(tenant["apiKey"], sessionId="default")
    old = session["inboundSecret"]
    rotated = rotate_session(api, tenant, {"overlapSeconds": 60})
    assert rotated.status == 200, rotated.raw
    new = rotated.data["inboundSecret"]
    assert new != old and new.startswith(f"whin_{session['receiverHandle']}.")
    assert rotated.data["previousSecretExpiresAt"] == clock.iso_of_epoch(now[0] + 60)

    now[0] += 59  # one second before the expiry: both open the session, in every form
    assert signed(api, session, old).status == 200 and signed(api, session, new).status == 200
    assert verify(api, session, old).status == 200 and verify(api, session, new).status == 200
    body_route = f"/api/whatsapp/webhook?token={quote(new)}"
    waha = json.dumps(
        {"event": "session.status", "session": "default", "payload": {"name": "default", "status": "WORKING"}}
    )
    assert api.call("POST", body_route, raw=waha.encode(), headers={"Content-Type": "application/json"}).status == 200

    now[0] += 1  # at the expiry: only the new one
    assert signed(api, session, old).status == 401
    assert verify(api, session, old).status == 403
    assert signed(api, session, new).status == 200 and verify(api, session, new).status == 200


def test_the_default_overlap_is_the_setting_and_a_rotation_during_it_ends_the_oldest(api, tenant, now):
    session = api.create_session(tenant["apiKey"], sessionId="default")
    first = session["inboundSecret"]
    rotated = rotate_session(api, tenant)
    assert rotated.data["previousSecretExpiresAt"] == clock.iso_of_epoch(
        now[0] + 86400
    )  # CREDENTIAL_ROTATION_OVERLAP_S
    second = rotated.data["inboundSecret"]
    third = rotate_session(api, tenant).data["inboundSecret"]
    assert signed(api, session, first).status == 401
    assert signed(api, session, second).status == 200 and signed(api, session, third).status == 200


def test_a_rotation_to_a_secret_of_ones_own_is_not_echoed_and_must_be_long_enough(api, tenant, now):
    session = api.create_session(tenant["apiKey"], sessionId="default")
    short = rotate_session(api, tenant, {"secret": "too-short"})
    assert (short.status, short.error_code) == (400, "SECRET_TOO_SHORT")
    assert signed(api, session, session["inboundSecret"]).status == 200  # nothing changed
    own = "our-own-inbound-secret-0123456789"
    rotated = rotate_session(api, tenant, {"secret": own, "overlapSeconds": 0})
    assert rotated.status == 200 and "inboundSecret" not in rotated.data
    assert signed(api, session, own).status == 200
    assert signed(api, session, session["inboundSecret"]).status == 401  # overlap 0: the old one ends at once
    too_long = rotate_session(api, tenant, {"overlapSeconds": 604801})
    assert (too_long.status, too_long.error_code) == (400, "VALIDATION_ERROR")


def test_another_tenants_session_cannot_be_rotated(api, tenant, now):
    api.create_session(tenant["apiKey"], sessionId="default")
    other = api.create_tenant("other")
    reply = rotate_session(api, other)
    assert (reply.status, reply.error_code) == (404, "NOT_FOUND")


def _gateway_post(api, key: str):
    headers = {"Content-Type": "application/json", "X-Api-Key": key}
    return api.call("POST", "/api/whatsapp/webhook", raw=WWEBJS_API, headers=headers)


def test_a_gateway_credential_rotates_with_an_overlap_that_ends_at_its_stated_expiry(api, tenant, now):
    api.create_session(tenant["apiKey"], sessionId="ABCD")
    made = api.call("POST", "/api/gateway-credentials", body={"name": "wwebjs-api"}, api_key=tenant["apiKey"]).data
    old = made["secret"]
    path = f"/api/gateway-credentials/{made['credentialId']}/rotate-secret"
    rotated = api.call("POST", path, body={"overlapSeconds": 120}, api_key=tenant["apiKey"])
    assert rotated.status == 200, rotated.raw
    new = rotated.data["secret"]
    assert rotated.data["previousSecretExpiresAt"] == clock.iso_of_epoch(now[0] + 120)
    listed = api.call("GET", "/api/gateway-credentials", api_key=tenant["apiKey"]).data
    assert listed[0]["previousSecretExpiresAt"] == rotated.data["previousSecretExpiresAt"] and "secret" not in listed[0]

    now[0] += 119
    assert _gateway_post(api, old).status == 200 and _gateway_post(api, new).status == 200
    now[0] += 1
    assert _gateway_post(api, old).status == 401 and _gateway_post(api, new).status == 200

    # a second rotation keeps the key it replaces for its overlap; revoking refuses every key at once
    newest = api.call("POST", path, body={}, api_key=tenant["apiKey"]).data["secret"]
    assert _gateway_post(api, new).status == 200 and _gateway_post(api, newest).status == 200
    assert (
        api.call("DELETE", f"/api/gateway-credentials/{made['credentialId']}", api_key=tenant["apiKey"]).status == 200
    )
    assert _gateway_post(api, new).status == 401 and _gateway_post(api, newest).status == 401


def test_a_gateway_credential_of_another_tenant_cannot_be_rotated(api, tenant, now):
    made = api.call("POST", "/api/gateway-credentials", body={"name": "x"}, api_key=tenant["apiKey"]).data
    other = api.create_tenant("other")
    reply = api.call(
        "POST", f"/api/gateway-credentials/{made['credentialId']}/rotate-secret", body={}, api_key=other["apiKey"]
    )
    assert (reply.status, reply.error_code) == (404, "NOT_FOUND")
