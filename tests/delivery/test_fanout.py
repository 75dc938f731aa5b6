"""Fan-out through the Events stream (dispatcher), first attempts without a log read, counters from the streams."""

from __future__ import annotations

import json

from hub.delivery import dispatching, queue
from hub.delivery.models import DeliveryMessage
from hub.platform import catalog, ddb
from tests.delivery.conftest import accept, message_event, status_event
from tests.delivery.test_delivery import logs, subscribe


def queued_messages() -> list[DeliveryMessage]:
    """The queue's messages, left visible again for the worker."""
    messages = queue.client().receive_message(QueueUrl=queue.queue_url(), MaxNumberOfMessages=10).get("Messages", [])
    for message in messages:
        queue.client().change_message_visibility(
            QueueUrl=queue.queue_url(), ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return [DeliveryMessage.model_validate_json(m["Body"]) for m in messages]


def test_the_receiver_queues_nothing_and_the_dispatcher_queues_each_delivery_whole(api, tenant, subscriber, streams):
    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url)
    receipt = accept(status_event("s1"))
    assert queued_messages() == []
    streams.pump()
    [message] = queued_messages()
    assert message.first is not None
    assert (message.first.eventId, message.first.event, message.first.target.url) == (
        receipt.eventId,
        "session.status",
        subscriber.url,
    )
    assert json.loads(message.first.payload)["data"]["status"] == "session_connected"
    assert logs(api, key) == []


def test_a_delivery_too_large_to_travel_inline_gets_its_pending_log_and_travels_by_id(
    api, tenant, subscriber, streams, worker, monkeypatch
):
    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url)
    monkeypatch.setattr(dispatching, "INLINE_PAYLOAD_LIMIT_BYTES", 100)
    accept(status_event("s1"))
    streams.pump()
    [message] = queued_messages()
    assert message.first is None
    [log] = logs(api, key)
    assert (log["webhookId"], log["status"], log["attempts"]) == (message.webhookId, "pending", 0)
    worker.drain()
    assert [(entry["status"], entry["attempts"]) for entry in logs(api, key)] == [("success", 1)]


def test_a_first_attempt_reads_no_log_and_one_session_secret_per_burst(api, tenant, subscriber, worker, monkeypatch):
    """A first attempt reads no delivery log (it creates it); the subscription's secret is read from the session
    once per worker process and CACHE_S (hub.delivery.secrets), not once per delivery."""
    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url)
    accept(status_event("s1"))
    accept(message_event("s1", n=1))
    accept(message_event("s1", n=2))
    api.streams.pump()
    real_client = ddb.client()
    reads = []

    class CountingClient:
        """Counts reads (the endpoint breakers' table is read through a per-process cache, hub.delivery.fairness)."""

        def __getattr__(self, name):
            method = getattr(real_client, name)
            if name not in ("get_item", "batch_get_item", "query"):
                return method

            def counted(**request):
                if request.get("TableName") != ddb.name(catalog.ENDPOINTS):
                    reads.append((name, request.get("TableName")))
                return method(**request)

            return counted

    monkeypatch.setattr(ddb, "client", lambda: CountingClient())
    worker.poller.poll_once()
    monkeypatch.undo()
    assert reads == [("get_item", ddb.name(catalog.SESSIONS))]
    assert len(subscriber.received) == 3
    assert [(log["status"], log["attempts"]) for log in logs(api, key)] == [("success", 1)] * 3


def test_counters_follow_the_streams(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url)
    accept(status_event("s1", n=1))
    accept(message_event("s1", n=2))
    worker.drain()
    listing = api.call("GET", "/api/whatsapp/session/list-realtime", api_key=key).json
    assert (listing["summary"]["connected"], listing["summary"]["total"]) == (1, 1)
    usage = api.call("GET", "/api/usage?days=1", api_key=key).data
    assert (
        usage["totals"]["eventsReceived"],
        usage["totals"]["deliveriesAttempted"],
        usage["totals"]["deliveriesSucceeded"],
    ) == (2, 2, 2)
    stats = api.call("GET", "/api/webhook/stats", api_key=key).data
    assert (stats["total"], stats["success"]) == (2, 2)
