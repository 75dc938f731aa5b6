"""Fan-out, signed delivery, SQS-carried retries, dead letters and management routes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook
from werkzeug import Response

from hub.delivery import backoff
from hub.delivery.subscriptions import RetryPolicy
from hub.platform import settings
from tests.delivery.conftest import accept, dead_letters, message_event, status_event


def subscribe(api, key, session_id, url, **fields):
    api.create_session(key, sessionId=session_id)
    reply = api.call("PUT", f"/api/instance/{session_id}", body={"webhookUrl": url, **fields}, api_key=key)
    assert reply.status == 200, reply.raw
    return reply.data


def logs(api, key, query=""):
    return api.call("GET", f"/api/webhook/logs{query}", api_key=key).data


def test_delivery_is_signed_both_ways_and_logged(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    subscription = subscribe(api, key, "s1", subscriber.url)
    secret = subscription["webhook"]["secret"]
    assert secret.startswith("whsec_")
    receipt = accept(status_event("s1"))
    worker.drain()

    assert len(subscriber.received) == 1
    request = subscriber.received[0]
    body, headers = request["body"], request["headers"]
    expected_hex = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Webhook-Signature"], expected_hex)
    Webhook(secret).verify(body, {k.lower(): v for k, v in headers.items()})
    envelope = json.loads(body)
    assert envelope["id"] == receipt.eventId == headers["Webhook-Id"]
    assert envelope["event"] == headers["X-Webhook-Event"] == "session.status"
    assert envelope["data"]["status"] == "session_connected" and envelope["data"]["previousStatus"] == "initializing"
    assert envelope["source"] == {"dialect": "wwebjs", "event": "ready"}
    assert headers["X-Webhook-Attempt"] == "1" and headers["User-Agent"].startswith("wa-webhook-hub/")

    [log] = logs(api, key)
    assert (log["status"], log["attempts"], log["statusCode"]) == ("success", 1, 200)
    detail = api.call("GET", f"/api/webhook/logs/{log['webhookId']}", api_key=key).data
    assert detail["attemptLog"][0]["ok"] is True and detail["payload"]["id"] == receipt.eventId
    assert "secret" not in json.dumps(detail)


def test_failed_attempts_are_retried_until_success(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    subscriber.behaviour = lambda n, _: Response("nope", status=500) if n <= 2 else Response("ok")
    subscribe(api, key, "s1", subscriber.url, retry={"attempts": 3, "delayMs": 1000})
    accept(status_event("s1"))
    worker.drain()
    [log] = logs(api, key)
    detail = api.call("GET", f"/api/webhook/logs/{log['webhookId']}", api_key=key).data
    assert (detail["status"], detail["attempts"]) == ("success", 3)
    assert [a["statusCode"] for a in detail["attemptLog"]] == [500, 500, 200]
    assert detail["attemptLog"][0]["response"] == "nope"
    assert [r["headers"]["X-Webhook-Attempt"] for r in subscriber.received] == ["1", "2", "3"]
    assert len({r["headers"]["Webhook-Id"] for r in subscriber.received}) == 1


def test_exhausted_retries_fail_into_the_dlq_and_manual_retry_succeeds(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    subscriber.behaviour = lambda n, _: Response("down", status=503) if n <= 3 else Response("ok")
    subscribe(api, key, "s1", subscriber.url, retry={"attempts": 2, "delayMs": 1000})
    accept(status_event("s1"))
    worker.drain()
    [log] = logs(api, key)
    assert (log["status"], log["attempts"]) == ("failed", 3)
    parked = dead_letters()
    assert [json.loads(b)["webhookId"] for b in parked] == [log["webhookId"]]

    retried = api.call("POST", f"/api/webhook/retry/{log['webhookId']}", api_key=key)
    assert retried.status == 200 and retried.data["status"] == "pending"
    worker.drain()
    detail = api.call("GET", f"/api/webhook/logs/{log['webhookId']}", api_key=key).data
    assert (detail["status"], detail["attempts"]) == ("success", 4)
    stats = api.call("GET", "/api/webhook/stats", api_key=key).data
    assert (stats["total"], stats["success"], stats["failed"], stats["successRate"]) == (1, 1, 0, "100.00")


def test_a_timeout_is_a_failed_attempt(api, tenant, subscriber, worker, monkeypatch):
    monkeypatch.setenv("WEBHOOK_TIMEOUT_MS", "300")
    settings.load.cache_clear()
    subscriber.behaviour = lambda n, _: (time.sleep(1.0), Response("late"))[1]
    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url, retry={"attempts": 0})
    accept(status_event("s1"))
    worker.drain()
    [log] = logs(api, key)
    assert log["status"] == "failed" and "timeout" in log["error"]


def test_retry_schedule_is_exponential_and_capped(monkeypatch):
    settings.load.cache_clear()
    monkeypatch.setenv("WEBHOOK_RETRY_DELAY", "5000")
    settings.load.cache_clear()
    assert [backoff.delay_seconds(n, RetryPolicy()) for n in (1, 2, 3)] == [5, 10, 20]
    assert [backoff.delay_seconds(n, RetryPolicy(delayMs=1000)) for n in (1, 2, 3)] == [1, 2, 4]
    assert backoff.delay_seconds(10, RetryPolicy(delayMs=3_600_000)) == 12 * 3600
    assert backoff.retries_allowed(RetryPolicy()) == 3
    assert backoff.delay_seconds(1, RetryPolicy(delayMs=0)) == 1  # stored before the 1 s minimum: the minimum applies
    monkeypatch.setenv("WEBHOOK_RETRY_DELAY", "0")
    settings.load.cache_clear()
    assert [backoff.delay_seconds(n, RetryPolicy()) for n in (1, 2)] == [1, 2]
    settings.load.cache_clear()


def test_backoff_hides_the_message_in_sqs(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    subscriber.behaviour = lambda n, _: Response("no", status=500)
    subscribe(api, key, "s1", subscriber.url, retry={"attempts": 1, "delayMs": 2000})
    accept(status_event("s1"))
    worker.poll_once()
    [log] = logs(api, key)
    assert log["status"] == "retrying"
    next_at = datetime.fromisoformat(log["nextAttemptAt"].replace("Z", "+00:00"))
    assert 1 <= (next_at - datetime.now(UTC)).total_seconds() <= 2.5
    assert worker.poll_once() == 0
    time.sleep(2.2)
    worker.drain()
    assert len(subscriber.received) == 2
    assert logs(api, key)[0]["status"] == "failed"


def test_partial_batch_failure_reports_only_the_failed_ids(api, tenant, httpserver):
    from functions.delivery_worker.handler import handler
    from hub.delivery import queue
    from local.poller import build_sqs_event
    from local.runtime import FakeLambdaContext

    httpserver.expect_request("/ok", method="POST").respond_with_data("ok")
    httpserver.expect_request("/bad", method="POST").respond_with_data("bad", status=500)
    key = tenant["apiKey"]
    subscribe(api, key, "good", httpserver.url_for("/ok"))
    subscribe(api, key, "bad", httpserver.url_for("/bad"))
    accept(status_event("good"))
    accept(status_event("bad"))
    api.streams.pump()
    messages = queue.client().receive_message(
        QueueUrl=queue.queue_url(), MaxNumberOfMessages=10, AttributeNames=["All"]
    )["Messages"]
    assert len(messages) == 2
    result = handler(
        build_sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1"),
        FakeLambdaContext("delivery_worker", 512, 60),
    )
    bad_log = logs(api, key, "?instanceId=bad")[0]
    failed_ids = [f["itemIdentifier"] for f in result["batchItemFailures"]]
    bad_message = next(m for m in messages if json.loads(m["Body"])["webhookId"] == bad_log["webhookId"])
    assert failed_ids == [bad_message["MessageId"]]


def test_unparseable_queue_message_goes_to_the_dlq_without_blocking(api, tenant, subscriber, worker):
    from hub.delivery import queue

    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url)
    queue.client().send_message(QueueUrl=queue.queue_url(), MessageBody="{not json")
    accept(status_event("s1"))
    worker.drain()
    assert logs(api, key)[0]["status"] == "success"
    assert dead_letters() == ["{not json"]


def test_event_filter_takes_exact_types_and_prefixes(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url, events=["message.*"])
    accept(status_event("s1"))
    accept(message_event("s1"))
    worker.drain()
    assert [b["event"] for b in subscriber.bodies()] == ["message.received"]
    bad = api.call("PUT", "/api/instance/s1", body={"webhookUrl": subscriber.url, "events": ["bogus"]}, api_key=key)
    assert (bad.status, bad.error_code) == (400, "VALIDATION_ERROR")


def test_duplicate_events_are_delivered_once(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url)
    first, second = accept(status_event("s1")), accept(status_event("s1"))
    assert (first.duplicate, second.duplicate, first.eventId) == (False, True, second.eventId)
    worker.drain()
    assert len(subscriber.received) == 1


def test_secret_is_kept_on_update_and_never_listed(api, tenant, subscriber):
    key = tenant["apiKey"]
    first = subscribe(api, key, "s1", subscriber.url)
    again = api.call("PUT", "/api/instance/s1", body={"webhookUrl": subscriber.url}, api_key=key).data
    assert "secret" in first["webhook"] and "secret" not in again["webhook"]
    custom = api.call(
        "PUT", "/api/instance/s1", body={"webhookUrl": subscriber.url, "secret": "whsec_" + "B" * 44}, api_key=key
    )
    assert "secret" not in custom.data["webhook"]


def fake_resolution(monkeypatch, address: str) -> None:
    def getaddrinfo(host, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, 443))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize("address", ["10.0.0.5", "192.168.1.1", "169.254.169.254", "127.0.0.1", "100.64.0.1"])
def test_subscriber_urls_resolving_to_internal_addresses_are_refused(api, tenant, monkeypatch, address):
    monkeypatch.setenv("HUB_LOCAL", "false")
    settings.load.cache_clear()
    key = tenant["apiKey"]
    api.create_session(key, sessionId="s1")
    fake_resolution(monkeypatch, address)
    reply = api.call("PUT", "/api/instance/s1", body={"webhookUrl": "https://hooks.example.com/x"}, api_key=key)
    assert (reply.status, reply.error_code) == (400, "VALIDATION_ERROR")
    assert address in reply.json["error"]["message"]
    settings.load.cache_clear()


def test_plain_http_is_refused_in_the_cloud(api, tenant, monkeypatch):
    monkeypatch.setenv("HUB_LOCAL", "false")
    settings.load.cache_clear()
    api.create_session(tenant["apiKey"], sessionId="s1")
    fake_resolution(monkeypatch, "93.184.216.34")
    reply = api.call(
        "PUT", "/api/instance/s1", body={"webhookUrl": "http://hooks.example.com/x"}, api_key=tenant["apiKey"]
    )
    assert reply.status == 400 and "https" in reply.json["error"]["message"]
    settings.load.cache_clear()


def test_send_time_check_refuses_a_host_that_now_resolves_internally(api, tenant, subscriber, worker, monkeypatch):
    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url, retry={"attempts": 3, "delayMs": 1000})
    accept(status_event("s1"))
    monkeypatch.setenv("HUB_LOCAL", "false")
    settings.load.cache_clear()
    worker.drain()
    settings.load.cache_clear()
    [log] = logs(api, key)
    assert log["status"] == "failed" and log["attempts"] == 1 and "refused" in log["error"]
    assert subscriber.received == []


def test_webhook_routes_are_tenant_scoped(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url)
    accept(status_event("s1"))
    worker.drain()
    webhook_id = logs(api, key)[0]["webhookId"]
    other = api.create_tenant("other")["apiKey"]
    assert logs(api, other) == []
    for method, path in [("GET", f"/api/webhook/logs/{webhook_id}"), ("POST", f"/api/webhook/retry/{webhook_id}")]:
        reply = api.call(method, path, api_key=other)
        assert (reply.status, reply.error_code) == (404, "NOT_FOUND")
    assert api.call("GET", "/api/webhook/stats", api_key=other).data["total"] == 0
    assert api.call("DELETE", "/api/webhook/logs", body={}, api_key=other).data["deleted"] == 0
    assert len(logs(api, key)) == 1


def test_stats_logs_filters_and_clear(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    subscriber.behaviour = lambda n, request: (
        Response("no", status=500) if b"message.received" in request.get_data() else Response("ok")
    )
    subscribe(api, key, "s1", subscriber.url, retry={"attempts": 0})
    accept(status_event("s1", n=1))
    accept(message_event("s1", n=1))
    accept(message_event("s1", n=2))
    worker.drain()
    stats = api.call("GET", "/api/webhook/stats?instanceId=s1&days=1", api_key=key).data
    assert (stats["total"], stats["success"], stats["failed"], stats["successRate"]) == (3, 1, 2, "33.33")
    assert stats["topEvents"][0] == {"event": "message.received", "count": 2}
    assert len(logs(api, key, "?status=failed")) == 2
    assert len(logs(api, key, "?event=session.status")) == 1
    page = api.call("GET", "/api/webhook/logs?limit=2", api_key=key).json
    assert len(page["data"]) == 2 and page["nextCursor"]
    assert (
        api.call("DELETE", "/api/webhook/logs", body={"instanceId": "s1", "days": 1}, api_key=key).data["deleted"] == 0
    )
    assert api.call("DELETE", "/api/webhook/logs", body={"instanceId": "s1"}, api_key=key).data["deleted"] == 3
    assert logs(api, key) == []


def test_usage_counts_events_and_deliveries(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    subscriber.behaviour = lambda n, _: Response("no", status=500) if n == 1 else Response("ok")
    subscribe(api, key, "s1", subscriber.url, retry={"attempts": 1, "delayMs": 1000})
    accept(status_event("s1"))
    accept(message_event("s1"))
    worker.drain()
    usage = api.call("GET", "/api/usage?days=2", api_key=key).data
    assert usage["totals"] == {"eventsReceived": 2, "deliveriesAttempted": 3, "deliveriesSucceeded": 2}
    assert len(usage["days"]) == 2


def test_webhook_test_route_sends_a_signed_test_event(api, tenant, subscriber):
    reply = api.call("POST", "/api/webhook/test", body={"url": subscriber.url}, api_key=tenant["apiKey"])
    assert reply.status == 200
    assert (reply.data["ok"], reply.data["statusCode"]) == (True, 200)
    assert isinstance(reply.data["durationMs"], int)
    request = subscriber.received[0]
    assert json.loads(request["body"])["event"] == "webhook.test"
    Webhook(reply.data["secret"]).verify(request["body"], {k.lower(): v for k, v in request["headers"].items()})
    bad = api.call("POST", "/api/webhook/test", body={"url": "not a url"}, api_key=tenant["apiKey"])
    assert (bad.status, bad.error_code) == (400, "VALIDATION_ERROR")


def test_webhook_test_route_signs_with_the_instance_subscription_secret(api, tenant, subscriber):
    """With an instanceId and no secret, the webhooks function reads the session (its Sessions table)."""
    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url, secret="whsec_" + base64.b64encode(b"k" * 32).decode())
    reply = api.call("POST", "/api/webhook/test", body={"url": subscriber.url, "instanceId": "s1"}, api_key=key)
    assert reply.status == 200, reply.raw
    assert "secret" not in reply.data
    request = subscriber.received[0]
    Webhook("whsec_" + base64.b64encode(b"k" * 32).decode()).verify(
        request["body"], {k.lower(): v for k, v in request["headers"].items()}
    )


def test_burst_through_a_flaky_subscriber_delivers_every_event(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    subscriber.behaviour = lambda n, _: Response("flaky", status=500) if n % 3 == 0 else Response("ok")
    subscribe(api, key, "s1", subscriber.url, retry={"attempts": 5, "delayMs": 1000})
    sent = {accept(message_event("s1", n=i)).eventId for i in range(30)}
    worker.drain(timeout_s=60)
    assert subscriber.delivered_ids() == sent
    assert sum(r["status"] == 500 for r in subscriber.received) == len(subscriber.received) // 3
    assert all(log["status"] == "success" for log in logs(api, key, "?limit=100"))


def test_subscriptions_can_change_while_the_session_receives_events(api, tenant, subscriber):
    from hub.delivery.subscriptions import Subscription
    from hub.platform.exceptions import ChangedMeanwhile
    from hub.sessions import store as sessions

    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url)
    read_before_event = sessions.get(tenant["tenantId"], "s1")
    accept(status_event("s1"))
    assert sessions.get(tenant["tenantId"], "s1").version > read_before_event.version
    replacement = Subscription(url=subscriber.url, secret="whsec_" + "A" * 44, events=["message.*"])
    sessions.save_subscriptions(read_before_event, [replacement])
    assert [s.events for s in sessions.get(tenant["tenantId"], "s1").subscriptions] == [["message.*"]]
    with pytest.raises(ChangedMeanwhile):  # the store's report of DynamoDB's ConditionalCheckFailed
        sessions.save_subscriptions(read_before_event, [replacement])
