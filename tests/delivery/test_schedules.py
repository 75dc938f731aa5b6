"""Retry schedules as SQS carries them, and the worker deciding when a delivery has failed.

The embedded SQS enforces SQS's limits (local.sqs_limits) and `clock` skips the waits, so a
schedule of days runs here in moments under the limits it meets in the cloud.
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import datetime

import pytest
from standardwebhooks.webhooks import Webhook
from werkzeug import Response

from hub.delivery import backoff, queue
from hub.delivery.subscriptions import Subscription
from hub.platform import catalog
from tests.delivery.conftest import accept, dead_letters, message_event, status_event
from tests.delivery.test_delivery import logs, subscribe


def detail(api, key, webhook_id):
    return api.call("GET", f"/api/webhook/logs/{webhook_id}", api_key=key).data


def refused_subscription(api, key, body) -> dict:
    """The one problem a 400 names when `body` is set as session s1's subscription."""
    api.create_session(key, sessionId="s1")
    reply = api.call("PUT", "/api/instance/s1", body=body, api_key=key)
    assert (reply.status, reply.error_code) == (400, "VALIDATION_ERROR")
    [problem] = reply.json["error"]["details"]
    return problem


def moments(log) -> list[datetime]:
    return [datetime.fromisoformat(a["at"].replace("Z", "+00:00")) for a in log["attemptLog"]]


def test_waits_longer_than_one_receive_may_hide_still_reach_the_last_attempt(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    subscriber.behaviour = lambda n, _: Response("down", status=503) if n <= 2 else Response("ok")
    subscribe(api, key, "s1", subscriber.url, retry={"attempts": 2, "delayMs": 12 * 3600 * 1000})
    accept(status_event("s1"))
    worker.drain()
    [log] = logs(api, key)
    shown = detail(api, key, log["webhookId"])
    assert (shown["status"], shown["attempts"]) == ("success", 3)
    first, second, third = moments(shown)
    assert (second - first).total_seconds() >= 12 * 3600 and (third - second).total_seconds() >= 12 * 3600
    assert dead_letters() == []


def test_a_message_back_before_its_retry_is_due_is_hidden_again_not_dropped(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    subscriber.behaviour = lambda n, _: Response("down", status=503) if n == 1 else Response("ok")
    subscribe(api, key, "s1", subscriber.url, retry={"attempts": 1, "delayMs": 12 * 3600 * 1000})
    accept(status_event("s1"))
    worker.poll_once()
    [message] = worker.clock.delivery_messages()
    worker.clock.advance(
        backoff.MAX_HIDE_S + 1
    )  # the longest hide one receive allows is over: the retry is not due yet
    assert worker.poll_once() == 1
    assert len(subscriber.received) == 1 and logs(api, key)[0]["status"] == "retrying"
    assert message.approximate_receive_count == 2 and not message.visible
    worker.drain()
    assert logs(api, key)[0]["status"] == "success" and len(subscriber.received) == 2


def test_the_queue_outlasts_the_longest_schedule_and_redrives_only_past_it():
    assert backoff.LONGEST_SCHEDULE_S == catalog.MAX_RETRY_ATTEMPTS * 12 * 3600
    assert catalog.DELIVERY_QUEUE.retention_days * 86400 >= backoff.LONGEST_SCHEDULE_S + 7 * 86400
    assert catalog.DELIVERY_QUEUE.max_receive_count >= backoff.MOST_RECEIVES + 10
    worker = catalog.function("delivery_worker")
    assert worker.timeout_s < backoff.HIDE_MARGIN_S


def test_the_queues_are_created_with_their_declared_retention(aws):
    for url, days in (
        (queue.queue_url(), catalog.DELIVERY_QUEUE.retention_days),
        (queue.dead_letter_url(), catalog.DELIVERY_QUEUE.dlq_retention_days),
    ):
        attributes = queue.client().get_queue_attributes(QueueUrl=url, AttributeNames=["MessageRetentionPeriod"])[
            "Attributes"
        ]
        assert attributes["MessageRetentionPeriod"] == str(days * 86400) == "1209600"


@pytest.mark.parametrize(
    "retry, limit",
    [
        ({"attempts": 10, "delayMs": 0}, "1000"),
        ({"delayMs": 999}, "1000"),
        ({"delayMs": 12 * 3600 * 1000 + 1}, "43200000"),
        ({"attempts": 11}, "10"),
    ],
)
def test_retry_policies_beyond_the_limits_are_refused_naming_them(api, tenant, subscriber, retry, limit):
    problem = refused_subscription(api, tenant["apiKey"], {"webhookUrl": subscriber.url, "retry": retry})
    assert problem["field"].startswith("retry") and limit in problem["message"]


def test_410_gone_fails_the_delivery_at_once(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    subscriber.behaviour = lambda n, _: Response("gone", status=410)
    subscribe(api, key, "s1", subscriber.url, retry={"attempts": 5, "delayMs": 1000})
    accept(status_event("s1"))
    worker.drain()
    [log] = logs(api, key)
    assert (log["status"], log["attempts"], log["statusCode"]) == ("failed", 1, 410)
    assert "410 Gone" in log["error"]
    assert len(subscriber.received) == 1
    assert [json.loads(b)["webhookId"] for b in dead_letters()] == [log["webhookId"]]


@pytest.mark.parametrize(
    "secret, why",
    [
        ("whsec_this-is-not-base64!!", "not valid base64"),
        ("whsec_" + base64.b64encode(b"k" * 16).decode(), "decodes to 16 bytes"),
        ("whsec_" + base64.b64encode(b"k" * 65).decode(), "decodes to 65 bytes"),
        ("my-own-secret-1234567", "omit it"),
    ],
)
def test_secrets_that_cannot_sign_are_refused(api, tenant, subscriber, secret, why):
    key = tenant["apiKey"]
    problem = refused_subscription(api, key, {"webhookUrl": subscriber.url, "secret": secret})
    assert problem["field"] == "secret" and why in problem["message"] and "whsec_" in problem["message"]
    test_send = api.call("POST", "/api/webhook/test", body={"url": subscriber.url, "secret": secret}, api_key=key)
    assert test_send.status == 400


@pytest.mark.parametrize("key_bytes", [24, 64])
def test_a_custom_secret_verifies_with_the_standard_webhooks_library(api, tenant, subscriber, worker, key_bytes):
    key = tenant["apiKey"]
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(key_bytes)).decode()
    api.create_session(key, sessionId="s1")
    reply = api.call("PUT", "/api/instance/s1", body={"webhookUrl": subscriber.url, "secret": secret}, api_key=key)
    assert reply.status == 200, reply.raw
    accept(status_event("s1"))
    worker.drain()
    [request] = subscriber.received
    Webhook(secret).verify(request["body"], {k.lower(): v for k, v in request["headers"].items()})


def test_a_stored_secret_that_cannot_sign_fails_its_delivery_at_once(api, tenant, subscriber, worker):
    from hub.sessions import store as sessions

    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url)
    poisoned = Subscription(
        url=subscriber.url, secret="whsec_this-is-not-base64!!"
    )  # stored before secrets were checked
    sessions.save_subscriptions(sessions.get(tenant["tenantId"], "s1"), [poisoned])
    accept(status_event("s1"))
    assert worker.poll_once() == 1
    [log] = logs(api, key)
    assert (log["status"], log["attempts"]) == ("failed", 1)
    assert "worker error" in log["error"] and "Error" in log["error"]
    assert subscriber.received == []
    [parked] = dead_letters()
    assert json.loads(parked)["webhookId"] == log["webhookId"]
    worker.drain()
    assert len(dead_letters()) == 0  # the parked copy was read above; nothing else was redriven


def test_an_unreadable_message_naming_its_delivery_fails_that_log(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    subscriber.behaviour = lambda n, _: Response("down", status=503) if n == 1 else Response("ok")
    subscribe(api, key, "s1", subscriber.url, retry={"attempts": 3, "delayMs": 1000})
    accept(status_event("s1"))
    worker.poll_once()
    [log] = logs(api, key)
    assert log["status"] == "retrying"
    body = json.dumps({"webhookId": log["webhookId"], "first": "not a delivery"})
    queue.client().send_message(QueueUrl=queue.queue_url(), MessageBody=body)
    worker.poll_once()
    shown = detail(api, key, log["webhookId"])
    assert (shown["status"], shown["attempts"]) == ("failed", 2)
    assert "unreadable queue message" in shown["attemptLog"][-1]["error"]
    assert body in dead_letters()


def test_text_sqs_refuses_travels_escaped_and_arrives_intact(api, tenant, subscriber, worker, monkeypatch):
    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url)
    text = "non-characters \ufffe\uffff from a WhatsApp user"
    event = message_event("s1", n=1)
    event.data["body"] = text
    sent: list[str] = []
    real_enqueue_client = queue.client()
    monkeypatch.setattr(queue, "client", lambda: SpyClient(real_enqueue_client, sent))
    accept(event)
    worker.drain()
    assert [b["data"]["body"] for b in subscriber.bodies()] == [text]
    assert sent and all("\ufffe" not in body and "\uffff" not in body for body in sent)


class SpyClient:
    """An SQS client that records the bodies sent through it, to any queue (the embedded SQS checks them)."""

    def __init__(self, real, sent: list[str]) -> None:
        self._real, self._sent = real, sent

    def send_message_batch(self, **request):
        self._sent += [entry["MessageBody"] for entry in request["Entries"]]
        return self._real.send_message_batch(**request)

    def send_message(self, **request):
        self._sent.append(request["MessageBody"])
        return self._real.send_message(**request)

    def __getattr__(self, name):
        return getattr(self._real, name)
