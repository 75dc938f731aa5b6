"""Revocation and deletion that remove (issue: a revoked tenant's sessions kept running), and API answers that
come well inside API Gateway's 29 s integration timeout (webhook test, clearing logs, purges)."""

from __future__ import annotations

import time

import pytest
from werkzeug import Response

from hub.delivery import logs as webhook_logs
from hub.platform import catalog, ddb, settings
from tests.delivery.conftest import clock, subscriber, worker  # noqa: F401  (shared fixtures)
from tests.faults.test_fault_injection import post_signed

READY = {"event": "ready", "data": {}, "timestamp": 1735732800}
MESSAGE = {"event": "message", "data": {"id": {"_serialized": "m-1"}, "body": "hi", "from": "1@c.us"}}


def items(table: catalog.Table) -> list[dict]:
    return ddb.client().scan(TableName=ddb.name(table))["Items"]


def session_with_subscriber(api, key, url, session_id="wa-1", **subscription):
    created = api.create_session(key, sessionId=session_id)
    reply = api.call("PUT", f"/api/instance/{session_id}", body={"webhookUrl": url, **subscription}, api_key=key)
    assert reply.status == 200, reply.raw
    return created


@pytest.fixture
def no_budget(monkeypatch):
    """Requests get no time for bulk work: every purge or clearing stops before its first page."""
    monkeypatch.setattr(catalog, "REQUEST_WORK_BUDGET_S", 0)


# --- revocation ---------------------------------------------------------------------------------


def test_a_revoked_tenants_sessions_answer_like_unknown_sessions(api, tenant, subscriber, no_budget, monkeypatch):
    session = session_with_subscriber(api, tenant["apiKey"], subscriber.url)
    assert post_signed(api, session, READY).status == 200
    revoked = api.call("DELETE", f"/api/admin/tenants/{tenant['tenantId']}", admin=True)
    assert revoked.status == 200 and revoked.data["purge"]["complete"] is False
    wa_1 = {"sessionKey": {"S": f"{tenant['tenantId']}#wa-1"}}
    assert ddb.client().get_item(TableName=ddb.name(catalog.SESSIONS), Key=wa_1).get("Item")

    unknown = post_signed(api, {**session, "receiverHandle": "never-registered"}, READY)
    refused = post_signed(api, session, {**READY, "timestamp": 1735732900})
    assert (refused.status, refused.json) == (unknown.status, unknown.json) == (401, unknown.json)
    verify = api.call(
        "GET",
        f"/api/whatsapp/webhook/{session['receiverHandle']}?hub.verify_token={session['inboundSecret']}&hub.challenge=c",
    )
    assert verify.status == 403

    monkeypatch.undo()
    listed = api.call("GET", "/api/admin/tenants", admin=True).data
    assert [t.get("revokedAt") for t in listed] == [revoked.data["revokedAt"]]


def test_a_receiver_instance_reads_its_tenants_standing_at_most_once_per_cache_period(
    api, tenant, no_budget, monkeypatch
):
    """In the cloud (TENANT_STATUS_CACHE_S, 30 s) a gateway event costs no Tenants read in the steady state, and a
    revocation reaches each receiver instance within the cache period."""
    from hub.tenants import auth

    monkeypatch.setenv("TENANT_STATUS_CACHE_S", "30")
    clock = [1000.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock[0])
    reads = []
    standing = auth.tenants.standing
    monkeypatch.setattr(auth.tenants, "standing", lambda tenant_id: reads.append(tenant_id) or standing(tenant_id))
    session = api.create_session(tenant["apiKey"], sessionId="wa-1")
    assert post_signed(api, session, READY).status == 200
    assert post_signed(api, session, {**READY, "timestamp": 1735732810}).status == 200
    assert reads == [tenant["tenantId"]]  # one read for both events

    assert api.call("DELETE", f"/api/admin/tenants/{tenant['tenantId']}", admin=True).status == 200
    clock[0] += 29
    assert post_signed(api, session, {**READY, "timestamp": 1735732820}).status == 200  # still within the period
    clock[0] += 2
    assert post_signed(api, session, {**READY, "timestamp": 1735732830}).status == 401
    assert reads == [tenant["tenantId"]] * 2


def test_revocation_erases_the_tenants_data_stops_its_deliveries_and_frees_its_session_ids(
    api, tenant, subscriber, worker
):
    key = tenant["apiKey"]
    subscriber.behaviour = lambda n, request: Response("down", status=500)
    session = session_with_subscriber(api, key, subscriber.url, retry={"attempts": 3, "delayMs": 1000})
    assert post_signed(api, session, READY).status == 200
    worker.drain(until=lambda: len(subscriber.received) == 1)
    [log] = api.call("GET", "/api/webhook/logs", api_key=key).data
    assert log["status"] == "retrying"

    revoked = api.call("DELETE", f"/api/admin/tenants/{tenant['tenantId']}", admin=True)
    assert revoked.status == 200, revoked.raw
    assert revoked.data["purge"] == {
        "complete": True,
        "deleted": {"sessions": 1, "events": 1, "logs": 0},
        "cancelledDeliveries": 1,
    }
    assert items(catalog.SESSIONS) == [] and items(catalog.EVENTS) == [] and items(catalog.TENANTS) == []
    [cancelled] = [ddb.from_item(i) for i in items(catalog.DELIVERIES)]
    assert cancelled["status"] == "failed" and "payload" not in cancelled

    worker.drain(timeout_s=10)  # the retry comes back, finds its delivery cancelled, and is dropped
    assert len(subscriber.received) == 1
    assert api.call("DELETE", f"/api/admin/tenants/{tenant['tenantId']}", admin=True).error_code == "NOT_FOUND"
    other = api.create_tenant("other")
    assert (
        api.call(
            "POST", "/api/whatsapp/session", body={"userId": "u", "sessionId": "wa-1"}, api_key=other["apiKey"]
        ).status
        == 201
    )


def test_a_purge_cut_short_by_its_budget_carries_on_when_repeated(api, tenant, monkeypatch):
    for n in range(3):
        api.create_session(tenant["apiKey"], sessionId=f"s-{n}")
    monkeypatch.setattr(catalog, "REQUEST_WORK_BUDGET_S", 0)
    first = api.call("DELETE", f"/api/admin/tenants/{tenant['tenantId']}", admin=True).data
    assert first["purge"]["complete"] is False and len(items(catalog.SESSIONS)) == 3
    monkeypatch.undo()
    second = api.call("DELETE", f"/api/admin/tenants/{tenant['tenantId']}", admin=True).data
    assert second["purge"]["complete"] is True and second["purge"]["deleted"]["sessions"] == 3
    assert items(catalog.SESSIONS) == [] and items(catalog.TENANTS) == []


# --- session deletion ---------------------------------------------------------------------------


def test_deleting_a_session_erases_its_events_and_logs(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    session = session_with_subscriber(api, key, subscriber.url)
    assert post_signed(api, session, READY).status == 200
    worker.drain()
    assert len(items(catalog.EVENTS)) == 1 and len(items(catalog.DELIVERIES)) == 1

    deleted = api.call("DELETE", "/api/whatsapp/session/wa-1", api_key=key)
    assert deleted.status == 200
    assert deleted.data["purge"] == {
        "complete": True,
        "deleted": {"sessions": 0, "events": 1, "logs": 1},
        "cancelledDeliveries": 0,
    }
    assert items(catalog.EVENTS) == [] and items(catalog.DELIVERIES) == []

    # The id registered again starts afresh: the old event is not remembered as a duplicate.
    again = session_with_subscriber(api, key, subscriber.url)
    reply = post_signed(api, again, READY)
    assert reply.status == 200 and reply.data["duplicate"] is False


def test_deleting_a_session_leaves_another_tenants_events_under_the_same_id(api, tenant, no_budget):
    from hub.ingest import store as event_store

    other = api.create_tenant("other")
    session = api.create_session(other["apiKey"], sessionId="shared")
    assert post_signed(api, session, READY).status == 200
    deleted, complete = event_store.delete_of_session("shared", tenant["tenantId"], time.monotonic() + 5)
    assert (deleted, complete) == (0, True) and len(items(catalog.EVENTS)) == 1


# --- answers inside API Gateway's 29 s ----------------------------------------------------------


def test_the_webhook_test_cap_answers_well_inside_the_integration_timeout(monkeypatch, aws):
    monkeypatch.setenv("WEBHOOK_TIMEOUT_MS", "30000")
    settings.load.cache_clear()
    connect_timeout_s = 5  # hub.delivery.sender: the connect timeout is at most 5 s
    assert webhook_logs.test_timeout_ms() == catalog.WEBHOOK_TEST_TIMEOUT_MS
    assert catalog.WEBHOOK_TEST_TIMEOUT_MS / 1000 + connect_timeout_s <= catalog.API_INTEGRATION_TIMEOUT_S - 5


def test_a_webhook_test_to_a_hanging_subscriber_stops_at_the_cap(api, tenant, subscriber, monkeypatch):
    monkeypatch.setenv("WEBHOOK_TIMEOUT_MS", "30000")
    settings.load.cache_clear()
    monkeypatch.setattr(catalog, "WEBHOOK_TEST_TIMEOUT_MS", 300)

    def hang(n, request):
        time.sleep(2)
        return Response("late")

    subscriber.behaviour = hang
    started = time.monotonic()
    reply = api.call("POST", "/api/webhook/test", body={"url": subscriber.url}, api_key=tenant["apiKey"])
    assert time.monotonic() - started < 1.8
    assert reply.status == 200 and reply.data["ok"] is False and reply.data["error"] == "timeout after 300 ms"


def _many_logs(tenant_id: str, count: int) -> None:
    from hub.delivery import store as delivery_store
    from hub.delivery.models import DeliveryLog
    from hub.delivery.subscriptions import Target

    target = Target(subscriptionId="default", url="https://example.com/hook")
    puts = [
        {
            "PutRequest": {
                "Item": delivery_store.to_item(
                    DeliveryLog(
                        webhookId=f"wh_{n:05d}",
                        tenantId=tenant_id,
                        instanceId="wa-1",
                        eventId=f"evt_{n}",
                        event="message.received",
                        payload="{}",
                        target=target,
                        status="success",
                        createdAt="2026-01-01T00:00:00Z",
                        updatedAt="2026-01-01T00:00:00Z",
                        expiresAt=2_000_000_000,
                    )
                )
            }
        }
        for n in range(count)
    ]
    for start in range(0, count, 25):
        ddb.client().batch_write_item(RequestItems={ddb.name(catalog.DELIVERIES): puts[start : start + 25]})


def test_clearing_many_logs_is_bounded_per_request_and_carries_on(api, tenant, monkeypatch):
    _many_logs(tenant["tenantId"], 450)
    monkeypatch.setattr(catalog, "REQUEST_WORK_BUDGET_S", 0)
    stopped = api.call("DELETE", "/api/webhook/logs", body={}, api_key=tenant["apiKey"]).data
    assert (stopped["deleted"], stopped["complete"]) == (0, False)
    monkeypatch.setattr(catalog, "REQUEST_WORK_BUDGET_S", 0.001)
    total, calls = 0, 0
    while True:
        calls += 1
        cleared = api.call("DELETE", "/api/webhook/logs", body={"instanceId": "wa-1"}, api_key=tenant["apiKey"]).data
        total += cleared["deleted"]
        if cleared["complete"]:
            break
    assert total == 450 and calls > 1 and items(catalog.DELIVERIES) == []
