"""Subscription secrets live on the subscription only; deliveries sign with the current one (hub.delivery.secrets)."""

from __future__ import annotations

import base64
import json

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from werkzeug import Response

from hub.delivery import queue
from hub.platform import catalog, ddb
from tests.delivery.conftest import accept, dead_letters, message_event, status_event
from tests.delivery.test_delivery import logs, subscribe
from tests.delivery.test_schedules import SpyClient

OLD_SECRET = "whsec_" + base64.b64encode(b"o" * 32).decode()
NEW_SECRET = "whsec_" + base64.b64encode(b"n" * 32).decode()


def stored_items(*tables: catalog.Table) -> list[str]:
    return [json.dumps(item) for table in tables for item in ddb.client().scan(TableName=ddb.name(table))["Items"]]


def verifies(secret: str, request: dict) -> bool:
    try:
        Webhook(secret).verify(request["body"], {k.lower(): v for k, v in request["headers"].items()})
    except WebhookVerificationError:
        return False
    return True


def test_no_event_record_log_queue_or_dead_letter_message_holds_the_secret(
    api, tenant, subscriber, worker, monkeypatch
):
    key = tenant["apiKey"]
    secret = subscribe(api, key, "s1", subscriber.url, retry={"attempts": 1, "delayMs": 1000})["webhook"]["secret"]
    subscriber.behaviour = lambda n, _: Response("down", status=503)
    sent: list[str] = []
    real = queue.client()
    monkeypatch.setattr(queue, "client", lambda: SpyClient(real, sent))
    accept(status_event("s1"))
    accept(message_event("s1", n=1))
    events = stored_items(catalog.EVENTS)
    worker.drain()
    assert [log["status"] for log in logs(api, key)] == ["failed", "failed"]
    parked = dead_letters()
    assert len(parked) == 2 and len(sent) >= 4  # two first attempts queued, two parked
    assert len(subscriber.received) == 4 and all(verifies(secret, r) for r in subscriber.received)
    everything = events + stored_items(catalog.DELIVERIES) + sent + parked
    assert everything and not [text for text in everything if secret in text]
    assert [text for text in stored_items(catalog.SESSIONS) if secret in text]  # where it does live


def test_a_manual_retry_of_an_old_log_signs_with_the_replaced_secret(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url, secret=OLD_SECRET)
    accept(status_event("s1"))
    worker.drain()
    [log] = logs(api, key)
    assert log["status"] == "success" and verifies(OLD_SECRET, subscriber.received[0])
    replaced = api.call(
        "PUT", "/api/instance/s1", body={"webhookUrl": subscriber.url, "secret": NEW_SECRET}, api_key=key
    )
    assert replaced.status == 200
    assert api.call("POST", f"/api/webhook/retry/{log['webhookId']}", api_key=key).status == 200
    worker.drain()
    assert len(subscriber.received) == 2
    assert verifies(NEW_SECRET, subscriber.received[1]) and not verifies(OLD_SECRET, subscriber.received[1])


def test_a_retry_after_the_secret_was_replaced_signs_with_the_new_one(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    subscriber.behaviour = lambda n, _: Response("down", status=503) if n == 1 else Response("ok")
    subscribe(api, key, "s1", subscriber.url, secret=OLD_SECRET, retry={"attempts": 2, "delayMs": 1000})
    accept(status_event("s1"))
    worker.poll_once()
    api.call("PUT", "/api/instance/s1", body={"webhookUrl": subscriber.url, "secret": NEW_SECRET}, api_key=key)
    worker.drain()
    assert [verifies(NEW_SECRET, r) for r in subscriber.received] == [False, True]
    assert [log["status"] for log in logs(api, key)] == ["success"]


@pytest.mark.parametrize("how", ["deleted", "registered_again"])
def test_a_deleted_sessions_pending_delivery_fails_with_a_clear_error(api, tenant, subscriber, worker, how):
    """The delivery is not sent (with the new incarnation's secret either): its log fails saying why, and the
    message is parked."""
    from hub.sessions import store as sessions

    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url)
    accept(status_event("s1"))
    worker.streams.pump()  # queued, not yet attempted
    sessions.remove(sessions.get(tenant["tenantId"], "s1"))
    if how == "registered_again":
        subscribe(api, key, "s1", subscriber.url)
    worker.drain()
    assert subscriber.received == []
    [log] = [entry for entry in logs(api, key) if entry["attempts"]]
    assert (log["status"], log["attempts"]) == ("failed", 1)
    assert "no longer exists" in log["error"] and "session deleted" in log["error"]
    assert [json.loads(body)["webhookId"] for body in dead_letters()] == [log["webhookId"]]
