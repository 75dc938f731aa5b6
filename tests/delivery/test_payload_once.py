"""The event's payload is stored once, in its record: logs refer to it, for as long as they live."""

from __future__ import annotations

import json
import time
from datetime import datetime

from werkzeug import Response

from hub.delivery import store as delivery_store
from hub.delivery import worker as delivery_worker
from hub.ingest import store as event_store
from hub.ingest.records import EventRecord
from hub.platform import catalog, ddb, settings
from tests.delivery.conftest import accept, message_event
from tests.delivery.test_delivery import logs, subscribe
from tests.platform.test_store_exceptions import delivery_log


def items(table: catalog.Table) -> list[dict]:
    return [ddb.from_item(i) for i in ddb.client().scan(TableName=settings.table_name(table))["Items"]]


def expire_at(table: catalog.Table, moment: float) -> int:
    """What DynamoDB's TTL does by `moment`: deletes the items whose TTL attribute has passed (moto never does)."""
    gone = 0
    key_names = [k.name for k in (table.partition_key, table.sort_key) if k]
    for item in items(table):
        if table.ttl_attribute and int(item[table.ttl_attribute]) < moment:
            key = {name: item[name] for name in key_names}
            ddb.client().delete_item(TableName=settings.table_name(table), Key=ddb.to_item(key))
            gone += 1
    return gone


def test_a_log_keeps_no_payload_and_a_retry_after_the_dedupe_window_still_sends_it(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    subscriber.behaviour = lambda n, _: Response("down", status=503) if n == 1 else Response("ok")
    subscribe(api, key, "s1", subscriber.url, retry={"attempts": 0})
    accept(message_event("s1", n=1))
    worker.drain()
    [log] = logs(api, key)
    assert (log["status"], log["attempts"]) == ("failed", 1)
    [stored] = items(catalog.DELIVERIES)
    assert "payload" not in stored and stored["eventKey"]

    # A day and an hour later the dedupe window (24 h) is over and TTL has removed what expired by then:
    # not the event's record, which its log still needs.
    config = settings.load()
    later = time.time() + config.dedupe_window_hours * 3600 + 3600
    assert expire_at(catalog.EVENTS, later) == 0
    [event] = items(catalog.EVENTS)
    assert later <= int(event["expiresAt"]) and int(event["expiresAt"]) >= int(stored["expiresAt"])

    retried = api.call("POST", f"/api/webhook/retry/{log['webhookId']}", api_key=key)
    assert retried.status == 200, retried.raw
    worker.drain()
    first, second = subscriber.received
    assert second["body"] == first["body"] and json.loads(second["body"])["data"]["body"] == "hi"
    detail = api.call("GET", f"/api/webhook/logs/{log['webhookId']}", api_key=key).data
    assert (detail["status"], detail["payload"]) == ("success", json.loads(first["body"]))


def test_an_event_without_subscribers_is_kept_for_the_dedupe_window_only(api, tenant):
    api.create_session(tenant["apiKey"], sessionId="quiet")
    accept(message_event("quiet", n=1))
    [event] = items(catalog.EVENTS)
    received = datetime.fromisoformat(event["receivedAt"].replace("Z", "+00:00")).timestamp()
    assert int(event["expiresAt"]) == int(received + settings.load().dedupe_window_hours * 3600)


def test_a_retry_whose_event_record_is_gone_fails_with_the_reason(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    subscriber.behaviour = lambda n, _: Response("down", status=503)
    subscribe(api, key, "s1", subscriber.url, retry={"attempts": 0})
    accept(message_event("s1", n=1))
    worker.drain()
    [log] = logs(api, key)
    assert expire_at(catalog.EVENTS, time.time() + 400 * 86400) == 1  # the record outlived by its log (purged)

    assert api.call("POST", f"/api/webhook/retry/{log['webhookId']}", api_key=key).status == 200
    worker.drain()
    assert len(subscriber.received) == 1
    detail = api.call("GET", f"/api/webhook/logs/{log['webhookId']}", api_key=key).data
    assert (detail["status"], detail["error"], detail["payload"]) == ("failed", delivery_worker.PAYLOAD_GONE, None)


def test_a_key_recorded_again_after_the_dedupe_window_no_longer_serves_the_first_payload(aws):
    def event(event_id: str, received_at: str) -> EventRecord:
        payload = envelope(event_id)
        return EventRecord(eventId=event_id, event="message", tenantId="t", receivedAt=received_at, payload=payload)

    def envelope(event_id: str) -> str:
        return json.dumps({"id": event_id, "event": "message"})

    first = event("evt_first", "2026-01-01T00:00:00.000Z")
    assert event_store.record("s", "k", first, "2025-12-31T00:00:00.000Z", 9) is None
    assert event_store.payload_of("t", "s", "k", "evt_first") == envelope("evt_first")
    within = event_store.record("s", "k", event("evt_dup", "2026-01-01T12:00:00.000Z"), "2025-12-31T12:00:00.000Z", 9)
    assert within is not None and (within.eventId, within.event) == ("evt_first", "message")  # read from the payload
    # a day later the first one is past the dedupe window, though its record has not expired
    later = event("evt_second", "2026-01-02T00:00:01.000Z")
    assert event_store.record("s", "k", later, "2026-01-01T00:00:01.000Z", 9) is None
    assert event_store.payload_of("t", "s", "k", "evt_first") is None
    assert event_store.payload_of("t", "s", "k", "evt_second") == envelope("evt_second")


def test_a_delivery_an_earlier_release_queued_keeps_its_payload_in_its_log(aws):
    """Its event's record names no log and expires with the dedupe window: the log is all that keeps the payload."""
    log = delivery_log("wh_1d7a2aec5702c6221c23e7387f").model_copy(update={"payload": '{"id": "evt_1"}'})
    assert log.eventKey is None
    delivery_store.create(log)
    stored = delivery_store.get("", queued=log)
    assert stored is not None and stored.payload == log.payload
    assert "payload" not in ddb.from_item(delivery_store.to_item(log.model_copy(update={"eventKey": "k"})))
