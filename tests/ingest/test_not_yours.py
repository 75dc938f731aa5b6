"""A session that is not yours answers exactly as one that does not exist (issue 12 §2): on every receiver route,
with every credential kind, another tenant's session and a session nobody has get the same status and the same
body, and nothing is recorded."""

from __future__ import annotations

import hmac
import json
from urllib.parse import quote

import pytest

from hub.ingest import store as event_store
from hub.platform import ddb
from tests.ingest.dialects.helpers import load

UNKNOWN_HANDLE = "rcv_" + "0" * 32


def _hex(secret: str, raw: bytes, algorithm: str = "sha256") -> str:
    return hmac.new(secret.encode(), raw, algorithm).hexdigest()


CREDENTIALS = {
    # kind -> (query, headers) given the caller's session secret, its gateway credential and the raw body
    "x-webhook-signature": lambda s, g, raw: ("", {"X-Webhook-Signature": _hex(s, raw)}),
    "x-webhook-hmac": lambda s, g, raw: ("", {"X-Webhook-Hmac": _hex(s, raw, "sha512")}),
    "x-hub-signature-256": lambda s, g, raw: ("", {"X-Hub-Signature-256": "sha256=" + _hex(s, raw)}),
    "x-hmac-signature": lambda s, g, raw: ("", {"x-hmac-signature": _hex(s, raw)}),
    "token": lambda s, g, raw: ("?token=" + quote(s), {}),
    "x-api-key": lambda s, g, raw: ("", {"X-Api-Key": s}),
    "apikey": lambda s, g, raw: ("", {"apikey": s}),
    "gateway-credential-token": lambda s, g, raw: ("?token=" + quote(g), {}),
    "gateway-credential-header": lambda s, g, raw: ("", {"X-Api-Key": g}),
}


def _waha(session: str) -> bytes:
    return json.dumps(
        {
            "event": "session.status",
            "session": session,
            "payload": {"name": session, "status": "WORKING"},
            "id": f"evt_{session}",
            "timestamp": 1735732790123,
            "engine": "NOWEB",
        }
    ).encode()


def _evolution(instance: str) -> bytes:
    body = load("dialects/evolution-api/connection.update__open.json")
    return json.dumps({**body, "instance": instance, "data": {**body["data"], "instance": instance}}).encode()


ROUTES = {
    # route -> (path, raw body) for a target (its handle and its session id)
    "path": lambda handle, sid: (
        f"/api/whatsapp/webhook/{handle}",
        json.dumps({"event": "ready", "data": {}}).encode(),
    ),
    "path+event": lambda handle, sid: (f"/api/whatsapp/webhook/{handle}/connection-update", _evolution(sid)),
    "body": lambda handle, sid: ("/api/whatsapp/webhook", _waha(sid)),
    "body+event": lambda handle, sid: ("/api/whatsapp/webhook/connection-update", _evolution(sid)),
}


@pytest.fixture
def world(api):
    """Tenant A with session `alpha`, tenant B with session `beta`; each with a gateway credential."""
    tenants = {}
    for name, session_id in (("a", "alpha"), ("b", "beta")):
        tenant = api.create_tenant(name)
        session = api.create_session(tenant["apiKey"], sessionId=session_id)
        made = api.call("POST", "/api/gateway-credentials", body={"name": name}, api_key=tenant["apiKey"])
        tenants[name] = {**tenant, "session": session, "gateway": made.data["secret"]}
    return tenants


def _post(api, route: str, kind: str, caller: dict, handle: str, session_id: str):
    path, raw = ROUTES[route](handle, session_id)
    query, headers = CREDENTIALS[kind](caller["session"]["inboundSecret"], caller["gateway"], raw)
    return api.call("POST", path + query, raw=raw, headers={"Content-Type": "application/json", **headers})


def _recorded(session_id: str) -> int:
    return ddb.client().scan(
        TableName=ddb.name(event_store.TABLE),
        FilterExpression="sessionId = :s",
        ExpressionAttributeValues=ddb.values(s=session_id),
        Select="COUNT",
    )["Count"]


@pytest.mark.parametrize("kind", sorted(CREDENTIALS))
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_another_tenants_session_answers_as_one_that_does_not_exist(api, world, route, kind):
    a, b = world["a"], world["b"]
    not_yours = _post(api, route, kind, b, a["session"]["receiverHandle"], "alpha")
    missing = _post(api, route, kind, b, UNKNOWN_HANDLE, "nobody")
    assert (not_yours.status, not_yours.json) == (missing.status, missing.json)
    assert not_yours.status == 401 and not_yours.error_code == "INVALID_SIGNATURE"
    assert _recorded("alpha") == 0


@pytest.mark.parametrize("kind", sorted(CREDENTIALS))
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_the_same_request_with_the_owners_credential_is_accepted(api, world, route, kind):
    """The control: what B is refused above, A's own credential of the same kind opens (HMAC kinds and the
    session's secret in a header cannot name a session on the shared route: those need the receiver URL)."""
    a = world["a"]
    reply = _post(api, route, kind, a, a["session"]["receiverHandle"], "alpha")
    names_nothing = route.startswith("body") and kind.startswith("x-") and kind not in ("x-api-key",)
    if names_nothing:
        assert reply.status == 401
    else:
        assert reply.status == 200, reply.raw
        assert _recorded("alpha") == 1


def test_verification_of_another_tenants_session_answers_as_one_that_does_not_exist(api, world):
    a, b = world["a"], world["b"]
    challenge = "&hub.challenge=42"
    not_yours = api.call(
        "GET",
        f"/api/whatsapp/webhook/{a['session']['receiverHandle']}?hub.verify_token={quote(b['session']['inboundSecret'])}{challenge}",
    )
    missing = api.call(
        "GET",
        f"/api/whatsapp/webhook/{UNKNOWN_HANDLE}?hub.verify_token={quote(b['session']['inboundSecret'])}{challenge}",
    )
    assert (not_yours.status, not_yours.json) == (missing.status, missing.json) and not_yours.status == 403
    mine = api.call(
        "GET",
        f"/api/whatsapp/webhook/{a['session']['receiverHandle']}?hub.verify_token={quote(a['session']['inboundSecret'])}{challenge}",
    )
    assert mine.status == 200 and mine.raw == b"42"
