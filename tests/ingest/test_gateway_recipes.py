"""Each gateway of tests/fixtures/dialects connects with the settings it really has (docs/gateways.md): each
recipe posts that gateway's own envelope (the fixture's exact bytes) with the credential the gateway can send."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import quote, urlencode

import pytest

from tests.ingest.dialects.helpers import raw

JSON = {"Content-Type": "application/json"}
EVOLUTION_MESSAGE = "dialects/evolution-api/messages.upsert.json"
EVOLUTION_QR = "dialects/evolution-api/qrcode.updated.json"
WAHA_WORKING = "dialects/waha/session.status__WORKING.json"
WWEBJS_API_READY = "dialects/wwebjs-api/ready.json"
WWEBJS_API_MESSAGE = "dialects/wwebjs-api/message.json"
GOWA_MESSAGE = "dialects/go-whatsapp-web-multidevice/message.json"
WUZAPI_CONNECTED = "dialects/wuzapi/Connected.json"
BAILEYS_API_CONNECTION = "dialects/baileys-whatsapp-api-nodejs/connection.json"
DEVICE_LOGIN = "dialects/whatsapp-multi-platform-status/login_success.json"
OWN_SECRET = "a-gateway-key-of-our-own-0123456789"


def path_of(session: dict) -> str:
    return "/api/whatsapp/webhook/" + session["receiverHandle"]


def status(api, tenant, session_id: str) -> str:
    reply = api.call("GET", f"/api/whatsapp/session/status/{session_id}", api_key=tenant["apiKey"])
    assert reply.status == 200, reply.raw
    return reply.data["status"]


def last_event(api, tenant, session_id: str) -> str | None:
    return api.call("GET", f"/api/whatsapp/session/status/{session_id}", api_key=tenant["apiKey"]).data.get("lastEvent")


def accepted(reply, event: str | None = None) -> dict:
    assert reply.status == 200, reply.raw
    if event is not None:
        assert reply.data["event"] == event, reply.data
    return reply.data


def credential(api, tenant, **body) -> dict:
    reply = api.call("POST", "/api/gateway-credentials", body={"name": "gw", **body}, api_key=tenant["apiKey"])
    assert reply.status == 201, reply.raw
    return reply.data


def fixture_session(api, tenant, session_id: str, **fields) -> dict:
    return api.create_session(tenant["apiKey"], sessionId=session_id, **fields)


# -- Evolution API -------------------------------------------------------------------------------------------------


def test_evolution_instance_webhook_with_its_apikey_header(api, tenant):
    session = fixture_session(api, tenant, "loja-01")
    reply = api.call(
        "POST", path_of(session), raw=raw(EVOLUTION_MESSAGE), headers={**JSON, "apikey": session["inboundSecret"]}
    )
    accepted(reply, "message.received")
    refused = api.call("POST", path_of(session), raw=raw(EVOLUTION_QR), headers={**JSON, "apikey": "whin_wrong"})
    assert refused.status == 401


def test_evolution_webhook_by_events_suffixes_neither_404_nor_read_as_the_session(api, tenant):
    session = fixture_session(api, tenant, "loja-01")
    apikey = {**JSON, "apikey": session["inboundSecret"]}
    accepted(
        api.call("POST", path_of(session) + "/qrcode-updated", raw=raw(EVOLUTION_QR), headers=apikey), "session.qr"
    )
    assert status(api, tenant, "loja-01") == "qr_generated"
    accepted(api.call("POST", path_of(session) + "/messages-upsert", raw=raw(EVOLUTION_MESSAGE), headers=apikey))
    mismatch = api.call("POST", path_of(session) + "/connection-update", raw=raw(EVOLUTION_MESSAGE), headers=apikey)
    assert (mismatch.status, mismatch.error_code) == (400, "VALIDATION_ERROR")
    # the body-carried session route with the suffix: /api/whatsapp/webhook/messages-upsert is not a session
    gateway = credential(api, tenant, gateway="evolution")
    body_route = api.call(
        "POST",
        "/api/whatsapp/webhook/messages-upsert",
        raw=raw(EVOLUTION_MESSAGE),
        headers={**JSON, "apikey": gateway["secret"]},
    )
    accepted(body_route, "message.received")


def test_evolution_global_webhook_carries_a_gateway_credential_in_its_url(api, tenant):
    """WEBHOOK_GLOBAL_URL sends no custom headers: the credential rides in the URL. With
    WEBHOOK_GLOBAL_WEBHOOK_BY_EVENTS, Evolution appends /<event> to that URL, query string included."""
    fixture_session(api, tenant, "loja-01")
    gateway = credential(api, tenant, gateway="evolution")
    token = quote(gateway["secret"])
    accepted(
        api.call("POST", f"/api/whatsapp/webhook?token={token}", raw=raw(EVOLUTION_QR), headers=JSON), "session.qr"
    )
    suffixed = api.call(
        "POST", f"/api/whatsapp/webhook?token={token}/messages-upsert", raw=raw(EVOLUTION_MESSAGE), headers=JSON
    )
    accepted(suffixed, "message.received")
    assert status(api, tenant, "loja-01") == "qr_generated"


# -- WAHA ----------------------------------------------------------------------------------------------------------


def test_waha_core_uses_the_receiver_url_with_a_token(api, tenant):
    """WAHA Core has no HMAC (a WAHA Plus feature) and runs one session, `default`."""
    session = fixture_session(api, tenant, "default")
    url = f"{path_of(session)}?token={quote(session['inboundSecret'])}"
    accepted(api.call("POST", url, raw=raw(WAHA_WORKING), headers=JSON), "session.status")
    assert status(api, tenant, "default") == "session_connected"


def test_waha_core_body_route_with_the_sessions_token(api, tenant):
    session = fixture_session(api, tenant, "default")
    url = f"/api/whatsapp/webhook?token={quote(session['inboundSecret'])}"
    accepted(api.call("POST", url, raw=raw(WAHA_WORKING), headers=JSON), "session.status")


@pytest.mark.parametrize("own", [False, True], ids=["hub-secret", "own-hmac-key"])
def test_waha_plus_signs_with_hmac_sha512(api, tenant, own):
    fields = {"inboundSecret": OWN_SECRET} if own else {}
    session = fixture_session(api, tenant, "default", **fields)
    key = OWN_SECRET if own else session["inboundSecret"]
    assert ("inboundSecret" in session) is not own  # a secret of the tenant's own is never echoed
    body = raw(WAHA_WORKING)
    headers = {
        **JSON,
        "X-Webhook-Hmac": hmac.new(key.encode(), body, hashlib.sha512).hexdigest(),
        "X-Webhook-Hmac-Algorithm": "sha512",
    }
    accepted(api.call("POST", path_of(session), raw=body, headers=headers), "session.status")


# -- wwebjs-api (chrishubert/whatsapp-api) -------------------------------------------------------------------------


def test_wwebjs_api_one_global_api_key_for_all_sessions(api, tenant):
    """The server sends `x-api-key: <API_KEY>` (its own REST key) for every session, to BASE_WEBHOOK_URL."""
    fixture_session(api, tenant, "ABCD")
    api_key = "wwebjs-api-server-key-0123456789abcdef"
    credential(api, tenant, gateway="wwebjs-api", secret=api_key)
    headers = {**JSON, "x-api-key": api_key}
    accepted(api.call("POST", "/api/whatsapp/webhook", raw=raw(WWEBJS_API_READY), headers=headers), "session.status")
    assert status(api, tenant, "ABCD") == "session_connected"
    accepted(
        api.call("POST", "/api/whatsapp/webhook", raw=raw(WWEBJS_API_MESSAGE), headers=headers), "message.received"
    )
    # the same key opens every session of the tenant on that server
    fixture_session(api, tenant, "EFGH")
    other = json.dumps({**json.loads(raw(WWEBJS_API_READY)), "sessionId": "EFGH"}).encode()
    accepted(api.call("POST", "/api/whatsapp/webhook", raw=other, headers=headers), "session.status")
    assert status(api, tenant, "EFGH") == "session_connected"


# -- GOWA (go-whatsapp-web-multidevice) ----------------------------------------------------------------------------


def test_gowa_per_device_webhook_signed_with_its_secret(api, tenant):
    session = fixture_session(api, tenant, "org_2", inboundSecret=OWN_SECRET)
    body = raw(GOWA_MESSAGE)
    signature = "sha256=" + hmac.new(OWN_SECRET.encode(), body, hashlib.sha256).hexdigest()
    reply = api.call("POST", path_of(session), raw=body, headers={**JSON, "X-Hub-Signature-256": signature})
    accepted(reply, "message.received")


def test_gowa_global_webhook_with_a_gateway_credential(api, tenant):
    """WHATSAPP_WEBHOOK is global; its secret (default "secret") is too weak to be one of ours: the URL carries a
    gateway credential and the session is the body's `session_id`."""
    fixture_session(api, tenant, "org_2")
    gateway = credential(api, tenant, gateway="gowa")
    body = raw(GOWA_MESSAGE)
    headers = {**JSON, "X-Hub-Signature-256": "sha256=" + hmac.new(b"secret", body, hashlib.sha256).hexdigest()}
    accepted(api.call("POST", f"/api/whatsapp/webhook?token={quote(gateway['secret'])}", raw=body, headers=headers))


# -- wuzapi --------------------------------------------------------------------------------------------------------


def test_wuzapi_instance_webhook_signed_json_mode(api, tenant):
    session = fixture_session(api, tenant, "loja-01", inboundSecret=OWN_SECRET)
    body = raw(WUZAPI_CONNECTED)
    signature = hmac.new(OWN_SECRET.encode(), body, hashlib.sha256).hexdigest()
    reply = api.call("POST", path_of(session), raw=body, headers={**JSON, "x-hmac-signature": signature})
    accepted(reply, "session.status")
    assert status(api, tenant, "loja-01") == "session_connected"


def test_wuzapi_form_mode_to_its_global_webhook_with_a_gateway_credential(api, tenant):
    fixture_session(api, tenant, "loja-01")
    gateway = credential(api, tenant, gateway="wuzapi")
    envelope = json.loads(raw(WUZAPI_CONNECTED))
    form = urlencode(
        {
            "jsonData": json.dumps({"type": "Connected", "event": {}}),
            "userID": envelope["userID"],
            "instanceName": "loja-01",
        }
    ).encode()
    url = f"/api/whatsapp/webhook?token={quote(gateway['secret'])}"
    reply = api.call("POST", url, raw=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
    accepted(reply, "session.status")


# -- baileys-api (salman0ansari/whatsapp-api-nodejs) ---------------------------------------------------------------


def test_baileys_api_sends_no_headers_so_the_url_carries_the_token(api, tenant):
    instance_key = json.loads(raw(BAILEYS_API_CONNECTION))["instanceKey"]
    session = fixture_session(api, tenant, instance_key)
    url = f"{path_of(session)}?token={quote(session['inboundSecret'])}"
    accepted(api.call("POST", url, raw=raw(BAILEYS_API_CONNECTION), headers=JSON), "session.status")
    # its global WEBHOOK_URL: a gateway credential, the session from `instanceKey`
    gateway = credential(api, tenant, gateway="baileys-api")
    global_url = f"/api/whatsapp/webhook?token={quote(gateway['secret'])}"
    body = json.dumps({**json.loads(raw(BAILEYS_API_CONNECTION)), "body": {"connection": "close"}}).encode()
    accepted(api.call("POST", global_url, raw=body, headers=JSON), "session.status")


# -- the multi-platform device manager ------------------------------------------------------------------------------


def test_device_manager_status_webhook_with_a_gateway_credential(api, tenant):
    """One statusWebhookSecret and one URL for every number: a gateway credential in the URL."""
    device = json.loads(raw(DEVICE_LOGIN))["device"]["deviceHash"]
    fixture_session(api, tenant, device)
    gateway = credential(api, tenant, gateway="device")
    body = raw(DEVICE_LOGIN)
    headers = {**JSON, "X-Webhook-Signature": hmac.new(b"meu-secret-super-seguro", body, hashlib.sha256).hexdigest()}
    reply = api.call("POST", f"/api/whatsapp/webhook?token={quote(gateway['secret'])}", raw=body, headers=headers)
    accepted(reply, "session.status")


# -- gateway credentials and own secrets ---------------------------------------------------------------------------


def test_gateway_credentials_are_shown_once_listed_without_keys_and_revoked_at_once(api, tenant):
    fixture_session(api, tenant, "ABCD")
    made = credential(api, tenant, gateway="wwebjs-api")
    assert made["secret"].startswith("whgw_") and made["credentialId"].startswith("gwc_")
    own = credential(api, tenant, name="their key", secret=OWN_SECRET)
    assert "secret" not in own
    listed = api.call("GET", "/api/gateway-credentials", api_key=tenant["apiKey"]).data
    assert [c["credentialId"] for c in listed] == [made["credentialId"], own["credentialId"]]
    assert all(
        set(c) <= {"credentialId", "name", "gateway", "createdAt", "rotatedAt", "previousSecretExpiresAt"}
        for c in listed
    )

    headers = {**JSON, "x-api-key": made["secret"]}
    accepted(api.call("POST", "/api/whatsapp/webhook", raw=raw(WWEBJS_API_READY), headers=headers))
    revoked = api.call("DELETE", f"/api/gateway-credentials/{made['credentialId']}", api_key=tenant["apiKey"])
    assert revoked.status == 200 and revoked.data["revoked"] is True
    assert api.call("POST", "/api/whatsapp/webhook", raw=raw(WWEBJS_API_READY), headers=headers).status == 401
    gone = api.call("DELETE", f"/api/gateway-credentials/{made['credentialId']}", api_key=tenant["apiKey"])
    assert (gone.status, gone.error_code) == (404, "NOT_FOUND")


@pytest.mark.parametrize(
    "route, body",
    [
        ("/api/gateway-credentials", {"name": "gw", "secret": "short-key"}),
        ("/api/whatsapp/session", {"userId": "u", "sessionId": "s1", "inboundSecret": "x" * 23}),
    ],
)
def test_a_secret_of_ones_own_shorter_than_24_characters_is_refused(api, tenant, route, body):
    reply = api.call("POST", route, body=body, api_key=tenant["apiKey"])
    assert (reply.status, reply.error_code) == (400, "SECRET_TOO_SHORT"), reply.raw
    assert "24" in reply.json["error"]["message"]
    assert api.call("GET", "/api/gateway-credentials", api_key=tenant["apiKey"]).data == []
    assert api.call("GET", "/api/whatsapp/session/status/s1", api_key=tenant["apiKey"]).status == 404


def test_a_key_registered_once_cannot_be_registered_again(api, tenant):
    credential(api, tenant, secret=OWN_SECRET)
    other = api.create_tenant("other")
    again = api.call(
        "POST", "/api/gateway-credentials", body={"name": "x", "secret": OWN_SECRET}, api_key=other["apiKey"]
    )
    assert (again.status, again.error_code) == (409, "CONFLICT")


def test_a_gateway_credential_stops_with_its_tenants_revocation(api, tenant):
    fixture_session(api, tenant, "ABCD")
    made = credential(api, tenant)
    assert api.call("DELETE", f"/api/admin/tenants/{tenant['tenantId']}", admin=True).status == 200
    headers = {**JSON, "x-api-key": made["secret"]}
    assert api.call("POST", "/api/whatsapp/webhook", raw=raw(WWEBJS_API_READY), headers=headers).status == 401
