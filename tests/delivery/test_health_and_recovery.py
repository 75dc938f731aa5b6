"""Subscription health (disabled after failing for the configured period, the tenant told, re-enabled in one
call) and recoveries (failed deliveries re-sent in the background, in pages, without holding live traffic)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug import Response

from hub.delivery import health, recovery
from hub.platform import catalog, ddb, settings
from hub.platform.clock import iso
from tests.delivery.conftest import accept, message_event
from tests.delivery.test_delivery import logs, subscribe
from tests.delivery.test_rotation import live_with_the_hub
from tests.delivery.test_secret_references import verifies
from tests.delivery.test_subscriptions import SESSION_ROUTES, TENANT_ROUTES, create

DOWN = Response("down", status=503)
NO_RETRIES = {"attempts": 0, "delayMs": 1000}


@pytest.fixture
def one_hour(monkeypatch):
    """Subscriptions are disabled after failing for one hour (SUBSCRIPTION_DISABLE_AFTER_HOURS)."""
    monkeypatch.setenv("SUBSCRIPTION_DISABLE_AFTER_HOURS", "1")
    settings.load.cache_clear()
    yield
    settings.load.cache_clear()


def endpoint_writes(monkeypatch) -> list[str]:
    """The write requests made to the Endpoints table from now on (their operation names)."""
    real = ddb.client()
    writes: list[str] = []

    class Counting:
        def __getattr__(self, name):
            method = getattr(real, name)
            if name not in ("put_item", "update_item", "delete_item"):
                return method

            def counted(**request):
                if request.get("TableName") == ddb.name(catalog.ENDPOINTS):
                    writes.append(name)
                return method(**request)

            return counted

    monkeypatch.setattr(ddb, "client", lambda: Counting())
    return writes


def test_a_subscription_failing_for_the_period_is_disabled_the_tenant_is_told_and_one_call_re_enables_it(
    api, tenant, subscriber, worker, clock, one_hour
):
    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url + "?failing", retry=NO_RETRIES)
    watcher = create(
        api, key, SESSION_ROUTES.format("s1"), url=subscriber.url + "?session-watcher", events=["webhook.*"]
    )
    create(api, key, TENANT_ROUTES, url=subscriber.url + "?tenant-watcher", events=["webhook.endpoint_disabled"])
    subscriber.behaviour = lambda n, request: DOWN if request.args.get("failing") is not None else Response("ok")

    accept(message_event("s1", n=1))
    worker.drain()
    clock.advance(1800)
    accept(message_event("s1", n=2))
    worker.drain()
    default = SESSION_ROUTES.format("s1") + "/default"
    assert api.call("GET", default, api_key=key).data["enabled"] is True  # failing for half the period only

    clock.advance(1801)
    accept(message_event("s1", n=3))
    worker.drain()
    shown = api.call("GET", default, api_key=key).data
    assert shown["enabled"] is False and shown["disabledAt"] and "every attempt failed since" in shown["disabledReason"]

    told = [r for r in subscriber.received if json.loads(r["body"])["event"] == "webhook.endpoint_disabled"]
    assert sorted(r["query"] for r in told) == ["session-watcher", "tenant-watcher"]
    data = json.loads(told[0]["body"])["data"]
    assert (data["subscriptionId"], data["sessionId"], data["tenantWide"]) == ("default", "s1", False)
    assert data["disabledAt"] == shown["disabledAt"] and watcher["id"] != "default"

    failing_sends = sum(1 for r in subscriber.received if r["query"] == "failing")
    accept(message_event("s1", n=4))
    worker.drain()
    assert sum(1 for r in subscriber.received if r["query"] == "failing") == failing_sends  # no new delivery

    enabled = api.call("PATCH", default, body={"enabled": True}, api_key=key).data
    assert (enabled["enabled"], enabled["disabledReason"], enabled["disabledAt"]) == (True, None, None)
    subscriber.behaviour = lambda n, request: Response("ok")
    accept(message_event("s1", n=5))
    worker.drain()
    assert sum(1 for r in subscriber.received if r["query"] == "failing") == failing_sends + 1


def test_a_success_within_the_period_starts_it_again_and_health_is_written_on_changes_only(
    api, tenant, subscriber, worker, clock, one_hour, monkeypatch
):
    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url, retry=NO_RETRIES)
    writes = endpoint_writes(monkeypatch)
    for n in range(3):
        accept(message_event("s1", n=n))
    worker.drain()
    assert writes == []  # healthy: no health write per delivery

    subscriber.behaviour = lambda n, request: DOWN
    for n in range(3, 6):
        accept(message_event("s1", n=n))
    worker.drain()
    assert writes == ["put_item"]  # failing started: one write for three failures

    clock.advance(3000)
    subscriber.behaviour = lambda n, request: Response("ok")
    accept(message_event("s1", n=6))
    worker.drain()
    assert writes == ["put_item", "delete_item"]  # recovered

    subscriber.behaviour = lambda n, request: DOWN
    clock.advance(3000)
    accept(message_event("s1", n=7))
    worker.drain()
    clock.advance(1000)
    accept(message_event("s1", n=8))
    worker.drain()
    assert api.call("GET", SESSION_ROUTES.format("s1") + "/default", api_key=key).data["enabled"] is True


def failed_deliveries(api, key, subscriber, worker, session_id: str, count: int) -> None:
    subscriber.behaviour = lambda n, request: DOWN
    for n in range(count):
        accept(message_event(session_id, n=n))
    worker.drain()
    assert [e["status"] for e in logs(api, key, "?limit=100")] == ["failed"] * count
    subscriber.behaviour = lambda n, request: Response("ok")


def test_a_recovery_re_sends_every_failed_delivery_since_a_time_in_pages_with_visible_progress(
    api, tenant, subscriber, worker, monkeypatch
):
    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url, retry=NO_RETRIES)
    monkeypatch.setattr(recovery, "PAGE_SIZE", 2)
    failed_deliveries(api, key, subscriber, worker, "s1", 5)
    since = iso(datetime.now(UTC) - timedelta(hours=1))

    started = api.call("POST", SESSION_ROUTES.format("s1") + "/default/recoveries", body={"since": since}, api_key=key)
    assert started.status == 202, started.raw
    assert started.data["status"] == "queued" and started.data["limits"]["maxDeliveries"] == recovery.MAX_DELIVERIES
    progress = f"/api/recoveries/{started.data['recoveryId']}"
    assert api.call("GET", progress, api_key=key).data["status"] == "queued"

    worker.poll_once()
    during = api.call("GET", progress, api_key=key).data
    assert (during["status"], during["resent"]) == ("running", 2)

    worker.drain()
    done = api.call("GET", progress, api_key=key).data
    assert (done["status"], done["resent"], done["scanned"]) == ("done", 5, 5)
    assert [e["status"] for e in logs(api, key, "?limit=100")] == ["success"] * 5
    assert len(subscriber.delivered_ids()) == 5
    other = api.create_tenant("other")["apiKey"]
    assert api.call("GET", progress, api_key=other).status == 404


def test_recoveries_are_bounded_and_validated(api, tenant, subscriber, one_hour):
    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url)
    route = SESSION_ROUTES.format("s1") + "/default/recoveries"
    now = datetime.now(UTC)
    for body in (
        {"since": iso(now - timedelta(days=recovery.MAX_SPAN_DAYS + 1))},
        {"since": iso(now + timedelta(hours=1))},
        {"since": "yesterday"},
        {"since": "2026-11-30T10:00:00"},  # no time zone
        {},
    ):
        reply = api.call("POST", route, body=body, api_key=key)
        assert (reply.status, reply.error_code) == (400, "VALIDATION_ERROR"), body
    since = {"since": iso(now - timedelta(hours=1))}
    assert api.call("POST", SESSION_ROUTES.format("s1") + "/nope/recoveries", body=since, api_key=key).status == 404
    other = api.create_tenant("other")["apiKey"]
    assert api.call("POST", route, body=since, api_key=other).status == 404
    api.call("PATCH", SESSION_ROUTES.format("s1") + "/default", body={"enabled": False}, api_key=key)
    reply = api.call("POST", route, body=since, api_key=key)
    assert (reply.status, reply.error_code) == (409, "CONFLICT")
    assert api.call("GET", "/api/recoveries/rcv_unknown", api_key=key).status == 404


def test_a_recovery_does_not_hold_other_tenants_live_deliveries(api, tenant, subscriber, worker, monkeypatch):
    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url + "?recovering", retry=NO_RETRIES)
    monkeypatch.setattr(recovery, "PAGE_SIZE", 3)
    failed_deliveries(api, key, subscriber, worker, "s1", 12)
    since = iso(datetime.now(UTC) - timedelta(hours=1))
    started = api.call("POST", SESSION_ROUTES.format("s1") + "/default/recoveries", body={"since": since}, api_key=key)
    other = api.create_tenant("other")["apiKey"]
    subscribe(api, other, "live", subscriber.url + "?live")
    accept(message_event("live", n=100))

    worker.poll_once()  # the recovery's first page and the live delivery, side by side
    live = [r for r in subscriber.received if r["query"] == "live"]
    progress = api.call("GET", f"/api/recoveries/{started.data['recoveryId']}", api_key=key).data
    assert len(live) == 1 and live[0]["status"] == 200
    assert progress["status"] == "running" and progress["resent"] < 12

    worker.drain()
    progress = api.call("GET", f"/api/recoveries/{started.data['recoveryId']}", api_key=key).data
    assert (progress["status"], progress["resent"]) == ("done", 12)


def test_every_session_of_the_tenant_is_told_once_signed_with_its_own_secret_and_no_other_tenant(
    api, tenant, subscriber, worker, clock, one_hour, monkeypatch
):
    live_with_the_hub(clock, monkeypatch)
    key = tenant["apiKey"]
    subscribe(api, key, "a1", subscriber.url + "?failing", retry=NO_RETRIES)
    api.create_session(key, sessionId="b1")
    watchers = {
        "b-watcher": create(
            api, key, SESSION_ROUTES.format("b1"), url=subscriber.url + "?b-watcher", events=["webhook.*"]
        ),
        "tenant-watcher": create(api, key, TENANT_ROUTES, url=subscriber.url + "?tenant-watcher", events=["*"]),
    }
    other = api.create_tenant("other")["apiKey"]
    api.create_session(other, sessionId="o1")
    create(api, other, SESSION_ROUTES.format("o1"), url=subscriber.url + "?other-session", events=["webhook.*"])
    create(api, other, TENANT_ROUTES, url=subscriber.url + "?other-tenant", events=["webhook.*"])
    subscriber.behaviour = lambda n, request: DOWN if request.args.get("failing") is not None else Response("ok")

    for n, wait in enumerate((0, 1800, 1801)):
        clock.advance(wait)
        accept(message_event("a1", n=n))
        worker.drain()
    assert api.call("GET", SESSION_ROUTES.format("a1") + "/default", api_key=key).data["enabled"] is False
    worker.drain()

    told = [r for r in subscriber.received if json.loads(r["body"])["event"] == "webhook.endpoint_disabled"]
    assert sorted(r["query"] for r in told) == ["b-watcher", "tenant-watcher"]  # once each; no other tenant's
    for request in told:
        body = json.loads(request["body"])
        own, others = watchers[request["query"]]["secret"], [w["secret"] for w in watchers.values()]
        assert verifies(own, request) and [verifies(s, request) for s in others].count(True) == 1
        assert body["instanceId"] == ("b1" if request["query"] == "b-watcher" else "a1")
        assert (body["data"]["sessionId"], body["data"]["subscriptionId"]) == ("a1", "default")
    assert len({json.loads(r["body"])["id"] for r in told}) == 1  # one event, one id
    shown = logs(api, key, "?instanceId=b1")
    assert [(entry["event"], entry["status"]) for entry in shown] == [("webhook.endpoint_disabled", "success")]


def test_past_the_bound_the_sessions_not_told_are_logged(
    api, tenant, subscriber, worker, clock, one_hour, monkeypatch, caplog
):
    monkeypatch.setattr(health, "NOTIFY_SESSION_PAGES", 1)
    monkeypatch.setattr(health, "SESSION_PAGE_SIZE", 2)
    key = tenant["apiKey"]
    subscribe(api, key, "a1", subscriber.url + "?failing", retry=NO_RETRIES)
    for session_id in ("b1", "c1"):
        api.create_session(key, sessionId=session_id)
        create(api, key, SESSION_ROUTES.format(session_id), url=f"{subscriber.url}?{session_id}", events=["webhook.*"])
    subscriber.behaviour = lambda n, request: DOWN if request.args.get("failing") is not None else Response("ok")

    for n, wait in enumerate((0, 3601)):
        clock.advance(wait)
        accept(message_event("a1", n=n))
        worker.drain()

    told = [r["query"] for r in subscriber.received if json.loads(r["body"])["event"] == "webhook.endpoint_disabled"]
    assert told == ["b1"]  # the page held a1 and b1; c1 is past the bound
    [record] = [r for r in caplog.records if "not sent to the subscriptions" in r.getMessage()]
    assert record.levelname == "ERROR" and record.sessionsToldUpTo == "b1" and record.tenantId == tenant["tenantId"]
