"""Session ids are the tenant's own (issue 10 §3): two tenants each register `default`; gateways reach a session
through its receiver handle; URLs issued by a release with global session ids keep working after the copy
(hub.sessions.migration)."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from hub.ingest import store as event_store
from hub.platform import ddb
from hub.sessions import migration

READY = {"event": "ready", "data": {}}
QR = {"event": "qr", "data": {"qr": "1@ABC,def,ghi"}}


def signed(secret: str, body: dict) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "application/json", "X-Webhook-Signature": signature}


def post(api, path: str, secret: str, body: dict):
    raw, headers = signed(secret, body)
    return api.call("POST", path, raw=raw, headers=headers)


def status(api, key: str, session_id: str):
    return api.call("GET", f"/api/whatsapp/session/status/{session_id}", api_key=key)


def recorded_tenants() -> set[str]:
    items = ddb.client().scan(TableName=ddb.name(event_store.TABLE))["Items"]
    return {event_store.from_item(item).tenantId for item in items}


def test_two_tenants_each_have_their_own_default(api):
    acme, globex = api.create_tenant("acme"), api.create_tenant("globex")
    a = api.create_session(acme["apiKey"], sessionId="default", userId="a")
    g = api.create_session(globex["apiKey"], sessionId="default", userId="g")
    assert a["receiverHandle"] != g["receiverHandle"] and a["inboundSecret"] != g["inboundSecret"]

    assert post(api, "/api/whatsapp/webhook/" + a["receiverHandle"], a["inboundSecret"], READY).status == 200
    assert post(api, "/api/whatsapp/webhook/" + g["receiverHandle"], g["inboundSecret"], QR).status == 200
    assert status(api, acme["apiKey"], "default").data["status"] == "session_connected"
    assert status(api, globex["apiKey"], "default").data["status"] == "qr_generated"
    assert recorded_tenants() == {acme["tenantId"], globex["tenantId"]}

    # one tenant deleting its `default` leaves the other's session, events and handle alone
    deleted = api.call("DELETE", "/api/whatsapp/session/default", api_key=acme["apiKey"])
    assert deleted.status == 200 and deleted.data["purge"]["deleted"]["events"] == 1
    assert status(api, acme["apiKey"], "default").status == 404
    assert status(api, globex["apiKey"], "default").data["status"] == "qr_generated"
    assert post(api, "/api/whatsapp/webhook/" + a["receiverHandle"], a["inboundSecret"], READY).status == 401
    assert post(api, "/api/whatsapp/webhook/" + g["receiverHandle"], g["inboundSecret"], READY).status == 200
    assert recorded_tenants() == {globex["tenantId"]}


def test_a_tenant_cannot_register_its_own_id_twice_and_a_session_id_is_not_a_receiver_url(api, tenant):
    created = api.create_session(tenant["apiKey"], sessionId="default")
    again = api.call(
        "POST", "/api/whatsapp/session", body={"sessionId": "default", "userId": "u"}, api_key=tenant["apiKey"]
    )
    assert (again.status, again.error_code) == (409, "CONFLICT")
    # the session id names nothing on the receiver: only the handle does
    assert post(api, "/api/whatsapp/webhook/default", created["inboundSecret"], READY).status == 401
    assert (
        post(api, "/api/whatsapp/webhook/" + created["receiverHandle"], created["inboundSecret"], READY).status == 200
    )


def test_registered_again_after_a_deletion_the_old_handle_is_gone(api, tenant):
    first = api.create_session(tenant["apiKey"], sessionId="default")
    assert api.call("DELETE", "/api/whatsapp/session/default", api_key=tenant["apiKey"]).status == 200
    second = api.create_session(tenant["apiKey"], sessionId="default")
    assert second["receiverHandle"] != first["receiverHandle"]
    # the old handle (possibly cached by a receiver instance) does not reach the new incarnation
    assert post(api, "/api/whatsapp/webhook/" + first["receiverHandle"], second["inboundSecret"], READY).status == 401
    assert post(api, "/api/whatsapp/webhook/" + second["receiverHandle"], second["inboundSecret"], READY).status == 200


@pytest.fixture
def legacy_table(aws):
    """A Sessions table of the release whose session ids were global (partition key `sessionId`), holding one
    session as that release wrote it: its receiver URL was /api/whatsapp/webhook/old-1."""
    client = ddb.client()
    name = "legacy-sessions"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "sessionId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "sessionId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _legacy_item(tenant_id: str, session_id: str, secret: str) -> dict:
    return ddb.to_item(
        {
            "sessionId": session_id,
            "tenantId": tenant_id,
            "userId": "u-1",
            "createdAt": "2026-01-01T00:00:00.000Z",
            "updatedAt": "2026-01-01T00:00:00.000Z",
            "inboundSecret": secret,
            "status": "initializing",
            "bucket": "loading",
            "version": 3,
            "subscriptions": [],
            "state": "{}",
            "ownerKey": f"{tenant_id}#u-1",
            "statusKey": f"{tenant_id}#initializing",
            "bucketKey": f"{tenant_id}#loading",
        }
    )


def test_receiver_urls_issued_before_keep_working_after_the_copy(api, tenant, legacy_table):
    old_secret = "whin_" + "o" * 43  # the old form: no handle in it
    ddb.client().put_item(TableName=legacy_table, Item=_legacy_item(tenant["tenantId"], "old-1", old_secret))

    copied = migration.copy_sessions(legacy_table)
    assert (copied.sessions, copied.alreadyThere) == (1, 0)
    assert migration.copy_sessions(legacy_table).alreadyThere == 1  # a second run copies nothing twice

    # the old path URL, and the old body-carried id, reach the session with its old secret
    assert post(api, "/api/whatsapp/webhook/old-1", old_secret, READY).status == 200
    waha = {
        "event": "session.status",
        "session": "old-1",
        "payload": {"name": "old-1", "status": "WORKING"},
        "id": "evt_legacy_1",
        "timestamp": 1735732790123,
        "engine": "NOWEB",
    }
    assert post(api, "/api/whatsapp/webhook", old_secret, waha).status == 200
    assert post(api, "/api/whatsapp/webhook/old-1", "whin_wrong", READY).status == 401
    shown = status(api, tenant["apiKey"], "old-1").data
    assert shown["status"] == "session_connected" and shown["receiverHandle"] == "old-1"
    listed = api.call("GET", "/api/whatsapp/session/list-realtime", api_key=tenant["apiKey"]).json
    assert [s["sessionId"] for s in listed["data"]] == ["old-1"] and listed["summary"]["total"] == 1

    # another tenant may now register `old-1` as its own: it gets a handle of its own, the old URL stays the first's
    other = api.create_tenant("other")
    mine = api.create_session(other["apiKey"], sessionId="old-1")
    assert mine["receiverHandle"] != "old-1"
    assert post(api, "/api/whatsapp/webhook/old-1", mine["inboundSecret"], READY).status == 401
