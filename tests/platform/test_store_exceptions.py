"""Stores report what DynamoDB and the other services answered as domain exceptions (docs/errors.md): never a raw
conditional failure, and the logic above them never needs the AWS SDK to tell what happened."""

from __future__ import annotations

import pytest

from hub.delivery import fairness
from hub.delivery import store as delivery_store
from hub.delivery.models import DeliveryLog
from hub.delivery.subscriptions import Target
from hub.platform import catalog, ddb, exceptions, stream_reader
from hub.sessions import store as session_store
from hub.sessions.models import SessionRecord
from hub.tenants import store as tenant_store
from hub.tenants.models import Tenant

NOW = "2026-01-01T00:00:00.000Z"


def session(session_id: str = "s-1") -> SessionRecord:
    return SessionRecord(
        sessionId=session_id,
        tenantId="t-1",
        receiverHandle=f"rcv_{session_id}",
        userId="u",
        createdAt=NOW,
        updatedAt=NOW,
        inboundSecret="x",
    )


def delivery_log(webhook_id: str = "wh_1") -> DeliveryLog:
    return DeliveryLog(
        webhookId=webhook_id,
        tenantId="t-1",
        instanceId="s-1",
        eventId="evt_1",
        event="message.received",
        payload="{}",
        target=Target(subscriptionId="sub_1", url="https://hooks.example.com/a"),
        createdAt=NOW,
        updatedAt=NOW,
        expiresAt=2_000_000_000,
    )


def test_the_sessions_store_reports_a_taken_id_and_changes_meanwhile(aws):
    record = session()
    session_store.create(record)
    with pytest.raises(exceptions.AlreadyExists):
        session_store.create(record)
    with pytest.raises(session_store.HandleTaken):  # another session, the same receiver handle
        session_store.create(record.model_copy(update={"sessionId": "s-2"}))
    session_store.save_subscriptions(record, [])  # the subscriptions' version moves on
    with pytest.raises(exceptions.ChangedMeanwhile):
        session_store.save_subscriptions(record, [])
    stale = record.model_copy(update={"version": record.version + 1})
    with pytest.raises(exceptions.ChangedMeanwhile):
        session_store.delete(stale)
    session_store.delete(record)
    with pytest.raises(exceptions.ChangedMeanwhile):
        session_store.revoke_links(record.tenantId, record.sessionId, 1)


def test_a_listing_cursor_the_index_refuses_is_an_invalid_cursor(aws, monkeypatch):
    from botocore.exceptions import ClientError

    def refusing(
        index, params
    ):  # what DynamoDB answers an ExclusiveStartKey that is no key of the index (moto takes any)
        raise ClientError(
            {"Error": {"Code": "ValidationException", "Message": "The provided starting key is invalid"}}, "Query"
        )

    monkeypatch.setattr(ddb, "query_index", refusing)
    forged = {"tenantId": {"S": "t-1"}}
    with pytest.raises(exceptions.InvalidCursor):
        session_store.query_page("t-1", user_id=None, status=None, limit=10, cursor=forged)
    with pytest.raises(exceptions.InvalidCursor):
        delivery_store.query_page("t-1", instance_id=None, status=None, event=None, limit=10, cursor=forged)
    with pytest.raises(ClientError):  # without a cursor, the refusal is not the caller's: it stays an AWS failure
        session_store.query_page("t-1", user_id=None, status=None, limit=10, cursor=None)


def test_the_deliveries_store_reports_an_existing_log_and_one_gone_meanwhile(aws):
    log = delivery_log()
    delivery_store.create(log)
    with pytest.raises(exceptions.AlreadyExists):
        delivery_store.create(log)
    with pytest.raises(exceptions.ChangedMeanwhile):
        delivery_store.requeue(delivery_log("wh_gone"), NOW)


def test_the_tenants_store_reports_a_key_in_use(aws):
    tenant_store.create(Tenant(tenantId="ten_a", name="a", plan="default", createdAt=NOW), "hash-1")
    with pytest.raises(exceptions.AlreadyExists):
        tenant_store.create(Tenant(tenantId="ten_b", name="b", plan="default", createdAt=NOW), "hash-1")
    assert tenant_store.get("ten_b") is None


def test_items_dynamodb_keeps_leaving_unprocessed_are_busy(aws, monkeypatch):
    class Unprocessing:
        def batch_get_item(self, RequestItems):
            return {"Responses": {}, "UnprocessedKeys": RequestItems}

    monkeypatch.setattr(ddb, "client", Unprocessing)
    monkeypatch.setattr(ddb.time, "sleep", lambda seconds: None)
    with pytest.raises(exceptions.Busy):
        ddb.get_many(catalog.SESSIONS, [ddb.to_item({"sessionId": "s-1"})])


def test_stream_records_the_stream_no_longer_holds_are_no_longer_held(aws):
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/gone/stream/2026-01-01T00:00:00.000"
    with pytest.raises(exceptions.NoLongerHeld):
        stream_reader.read_range(arn, "shardId-00000001700000000000-00000001", "1" * 21, "2" * 21)


def test_the_breaker_tolerates_aws_failures_only(aws, monkeypatch):
    from hub.delivery import endpoints_store

    def broken(key):
        raise KeyError(key)  # a bug, not AWS: it must not be taken for an unreachable table

    monkeypatch.setattr(endpoints_store, "get", broken)
    with pytest.raises(KeyError):
        fairness.admit(delivery_log(), 1, 1_700_000_000)

    def busy(key):
        raise exceptions.Busy("throttled")

    monkeypatch.setattr(endpoints_store, "get", busy)
    assert fairness.admit(delivery_log(), 1, 1_700_000_000) == fairness.Gate()
