"""Tenant and session routes through API Gateway proxy events on moto tables."""

from __future__ import annotations

import pytest

from hub.platform import ddb


def test_health_needs_no_key(api):
    reply = api.call("GET", "/api/health")
    assert reply.status == 200
    assert reply.data["status"] == "ok" and reply.data["version"]


def test_admin_routes_need_the_admin_key(api):
    assert api.call("GET", "/api/admin/tenants").error_code == "UNAUTHORIZED"
    reply = api.call("GET", "/api/admin/tenants", headers={"X-Admin-Key": "wrong"})
    assert (reply.status, reply.error_code) == (401, "UNAUTHORIZED")


def test_tenant_key_is_shown_once_and_stored_only_as_a_hash(api, tenant):
    listed = api.call("GET", "/api/admin/tenants", admin=True).data
    assert [t["tenantId"] for t in listed] == [tenant["tenantId"]]
    assert "apiKey" not in listed[0]
    scan = ddb.client().scan(TableName=ddb.name(__import__("hub.platform.catalog", fromlist=["x"]).TENANTS))
    assert tenant["apiKey"] not in str(scan["Items"])


def test_revoked_key_stops_working_at_once(api, tenant):
    key = tenant["apiKey"]
    assert api.call("GET", "/api/whatsapp/session/list-realtime", api_key=key).status == 200
    assert api.call("DELETE", f"/api/admin/tenants/{tenant['tenantId']}", admin=True).status == 200
    reply = api.call("GET", "/api/whatsapp/session/list-realtime", api_key=key)
    assert (reply.status, reply.error_code) == (401, "UNAUTHORIZED")
    assert api.call("DELETE", f"/api/admin/tenants/{tenant['tenantId']}", admin=True).error_code == "NOT_FOUND"


@pytest.mark.parametrize("key", [None, "wak_not_a_real_key"])
def test_tenant_routes_refuse_missing_or_unknown_keys(api, key):
    reply = api.call("GET", "/api/whatsapp/session/status/anything", api_key=key)
    assert (reply.status, reply.error_code) == (401, "UNAUTHORIZED")


def test_register_session_returns_receiver_url_and_inbound_secret_once(api, tenant):
    created = api.create_session(tenant["apiKey"], sessionId="shop-1", userId="u-9")
    assert created["receiverHandle"].startswith("rcv_") and created["receiverHandle"] != "shop-1"
    assert created["receiverUrl"].endswith("/api/whatsapp/webhook/" + created["receiverHandle"])
    assert created["inboundSecret"].startswith("whin_")
    status = api.call("GET", "/api/whatsapp/session/status/shop-1", api_key=tenant["apiKey"]).data
    assert "inboundSecret" not in status
    assert status["status"] == "initializing" and status["userId"] == "u-9" and status["isLoading"] is True


def test_register_generates_an_id_and_refuses_a_taken_one(api, tenant):
    generated = api.create_session(tenant["apiKey"])
    assert generated["sessionId"].startswith("ses_")
    api.create_session(tenant["apiKey"], sessionId="dup")
    reply = api.call(
        "POST", "/api/whatsapp/session", body={"sessionId": "dup", "userId": "u"}, api_key=tenant["apiKey"]
    )
    assert (reply.status, reply.error_code) == (409, "CONFLICT")


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "userId"),
        ({"userId": ""}, "userId"),
        ({"userId": "u", "sessionId": "bad id with spaces"}, "sessionId"),
        ({"userId": "u", "unknown": 1}, "unknown"),
        ({"userId": "u", "webhookUrl": "ftp://example.com/x"}, "webhookUrl"),
        ({"userId": "u", "webhookUrl": "https://127.0.0.1:9/x", "events": ["nope.*"]}, "events"),
    ],
)
def test_register_validation_errors_name_the_field_and_write_nothing(api, tenant, body, field):
    reply = api.call("POST", "/api/whatsapp/session", body=body, api_key=tenant["apiKey"])
    assert (reply.status, reply.error_code) == (400, "VALIDATION_ERROR")
    assert any(field in d["field"] for d in reply.json["error"]["details"]), reply.json
    listing = api.call("GET", "/api/whatsapp/session/list-realtime", api_key=tenant["apiKey"]).json
    assert listing["data"] == [] and listing["summary"]["total"] == 0


def test_invalid_json_and_too_large_bodies(api, tenant, monkeypatch):
    reply = api.call(
        "POST",
        "/api/whatsapp/session",
        raw=b"{nope",
        headers={"Content-Type": "application/json"},
        api_key=tenant["apiKey"],
    )
    assert (reply.status, reply.error_code) == (400, "INVALID_JSON")
    big = b'{"userId": "' + b"x" * 300_000 + b'"}'
    reply = api.call(
        "POST", "/api/whatsapp/session", raw=big, headers={"Content-Type": "application/json"}, api_key=tenant["apiKey"]
    )
    assert (reply.status, reply.error_code) == (413, "PAYLOAD_TOO_LARGE")


def test_other_tenants_sessions_answer_404(api, tenant):
    api.create_session(tenant["apiKey"], sessionId="mine")
    other = api.create_tenant("other")
    for method, path in [("GET", "/api/whatsapp/session/status/mine"), ("DELETE", "/api/whatsapp/session/mine")]:
        reply = api.call(method, path, api_key=other["apiKey"])
        assert (reply.status, reply.error_code) == (404, "NOT_FOUND")
    reply = api.call(
        "PUT", "/api/instance/mine", body={"webhookUrl": "http://127.0.0.1:9/hook"}, api_key=other["apiKey"]
    )
    assert reply.status == 404
    assert api.call("GET", "/api/whatsapp/session/list-realtime", api_key=other["apiKey"]).data == []
    assert api.call("GET", "/api/whatsapp/session/status/mine", api_key=tenant["apiKey"]).status == 200


def test_delete_session_removes_it_and_its_count(api, tenant):
    api.create_session(tenant["apiKey"], sessionId="gone")
    assert api.call("DELETE", "/api/whatsapp/session/gone", api_key=tenant["apiKey"]).status == 200
    assert api.call("GET", "/api/whatsapp/session/status/gone", api_key=tenant["apiKey"]).status == 404
    summary = api.call("GET", "/api/whatsapp/session/list-realtime", api_key=tenant["apiKey"]).json["summary"]
    assert summary["total"] == 0


def test_list_pagination_is_complete_and_filters_by_user(api, tenant):
    key = tenant["apiKey"]
    expected = {f"s{i:02d}" for i in range(23)}
    for i in range(23):
        api.create_session(key, sessionId=f"s{i:02d}", userId="alice" if i % 2 else "bob")
    seen, cursor, pages = [], None, 0
    while True:
        target = "/api/whatsapp/session/list-realtime?limit=5" + (f"&cursor={cursor}" if cursor else "")
        reply = api.call("GET", target, api_key=key).json
        assert reply["summary"]["total"] == 23
        seen += [item["sessionId"] for item in reply["data"]]
        pages += 1
        cursor = reply.get("nextCursor")
        if not cursor:
            break
    assert sorted(seen) == sorted(expected) and len(seen) == 23 and pages >= 5
    alice = api.call("GET", "/api/whatsapp/session/list-realtime?userId=alice&limit=100", api_key=key).json
    assert len(alice["data"]) == 11 and alice["summary"]["total"] == 11
    assert {item["userId"] for item in alice["data"]} == {"alice"}


def test_list_filters_by_status_and_bucket_with_matching_summary(api, tenant):
    key = tenant["apiKey"]
    for i in range(3):
        api.create_session(key, sessionId=f"x{i}")
    for status in ("initializing", "loading"):
        reply = api.call("GET", f"/api/whatsapp/session/list-realtime?status={status}", api_key=key).json
        assert len(reply["data"]) == 3 and reply["summary"]["total"] == 3
    reply = api.call("GET", "/api/whatsapp/session/list-realtime?status=connected", api_key=key).json
    assert reply["data"] == [] and reply["summary"]["total"] == 0
    bad = api.call("GET", "/api/whatsapp/session/list-realtime?status=bogus", api_key=key)
    assert (bad.status, bad.error_code) == (400, "VALIDATION_ERROR")


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "cursor=%%%", "cursor=eyJ4IjpbMV19"])
def test_list_rejects_bad_paging(api, tenant, query):
    reply = api.call("GET", f"/api/whatsapp/session/list-realtime?{query}", api_key=tenant["apiKey"])
    assert (reply.status, reply.error_code) == (400, "VALIDATION_ERROR")


def test_unknown_route_and_method(api):
    assert api.call("GET", "/api/nope").status == 404
    assert api.call("PATCH", "/api/health").status == 405
