"""Delivery logs keyed by instance: an instance's listing reads its partition of the table, and a webhook id
carries its log's key, so a log is found from its id alone."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.delivery import outbound
from hub.delivery import store as delivery_store
from hub.delivery import worker as delivery_worker
from hub.delivery.models import DeliveryLog, DeliveryMessage
from hub.delivery.subscriptions import Target
from hub.platform import ddb
from tests.delivery.conftest import accept, dead_letters, message_event
from tests.delivery.test_delivery import logs, subscribe

SESSION_IDS = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}\Z")


@given(tenant=st.from_regex(r"\Aten_[0-9a-f]{16}\Z"), instance=SESSION_IDS)
def test_a_webhook_id_locates_its_log(tenant, instance):
    created = "2026-11-30T18:00:00.123Z"
    webhook_id = outbound.webhook_id("evt_1", "sub_1", tenant, instance, created)
    where = outbound.locate(webhook_id)
    assert where is not None and (where.tenant_id, where.instance_id, where.created_at) == (tenant, instance, created)
    assert webhook_id == outbound.webhook_id("evt_1", "sub_1", tenant, instance, created)  # deterministic
    assert webhook_id != outbound.webhook_id("evt_1", "sub_2", tenant, instance, created)


@pytest.mark.parametrize(
    "webhook_id",
    [
        "",
        "wh_",
        "wh_1d7a2aec5702c6221c23e7387f",
        "wh_1d7a2aec5702c6221c23e7387f_!!",
        "xx_" + "a" * 40,
        "wh_" + "a" * 27,
    ],
)
def test_what_is_not_a_webhook_id_of_this_table_locates_nothing(webhook_id):
    assert outbound.locate(webhook_id) is None and delivery_store.key_of_id(webhook_id) is None


def test_an_instance_listing_reads_the_table_and_a_log_is_found_by_id_alone(
    api, tenant, subscriber, worker, monkeypatch
):
    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url)
    subscribe(api, key, "s2", subscriber.url)
    for n in range(3):
        accept(message_event("s1", n=n))
    accept(message_event("s2", n=9))
    worker.drain()

    index_queries: list[str] = []
    real_query_index = ddb.query_index
    monkeypatch.setattr(
        ddb, "query_index", lambda index, params: (index_queries.append(index.name), real_query_index(index, params))[1]
    )
    listed = logs(api, key, "?instanceId=s1")
    assert [log["instanceId"] for log in listed] == ["s1"] * 3
    assert [log["createdAt"] for log in listed] == sorted((log["createdAt"] for log in listed), reverse=True)
    assert index_queries == []  # the instance's partition of the table
    assert len(logs(api, key)) == 4 and index_queries == ["byTenantKeys"] * delivery_store.TENANT_SHARDS

    webhook_id = listed[0]["webhookId"]
    detail = api.call("GET", f"/api/webhook/logs/{webhook_id}", api_key=key)
    assert detail.status == 200 and detail.data["webhookId"] == webhook_id
    other = api.create_tenant("other")
    assert api.call("GET", f"/api/webhook/logs/{webhook_id}", api_key=other["apiKey"]).status == 404
    assert api.call("POST", f"/api/webhook/retry/{webhook_id}", api_key=other["apiKey"]).status == 404
    assert api.call("GET", "/api/webhook/logs/wh_1d7a2aec5702c6221c23e7387f", api_key=key).status == 404


def test_a_queued_id_of_an_earlier_release_is_parked_not_dropped(aws):
    body = json.dumps({"webhookId": "wh_1d7a2aec5702c6221c23e7387f"})
    assert delivery_worker.process(body, "receipt") is delivery_worker.Outcome.PARKED
    assert [json.loads(b) for b in dead_letters()] == [json.loads(body)]
    assert DeliveryMessage.model_validate_json(body).first is None


def test_the_tenant_listing_merges_its_shards_newest_first_page_by_page(aws):
    target = Target(subscriptionId="sub", url="https://example.com/hook")
    created = [f"2026-01-01T00:00:{n:02d}.000Z" for n in range(23)]
    for n, at in enumerate(created):
        log = DeliveryLog(
            webhookId=outbound.webhook_id(f"evt_{n}", "sub", "t-1", f"wa-{n % 7}", at),
            tenantId="t-1",
            instanceId=f"wa-{n % 7}",
            eventId=f"evt_{n}",
            event="message.received",
            target=target,
            createdAt=at,
            updatedAt=at,
            expiresAt=2_000_000_000,
        )
        delivery_store.create(log)
    assert len({delivery_store.tenant_shard("t-1", f"wa-{n}") for n in range(7)}) > 1  # spread over shards

    seen, cursor, pages = [], None, 0
    while True:
        page, cursor = delivery_store.query_page(
            "t-1", instance_id=None, status=None, event=None, limit=5, cursor=cursor
        )
        seen += [log.createdAt for log in page]
        pages += 1
        if cursor is None:
            break
        cursor = ddb.decode_cursor(ddb.encode_cursor(cursor))
    assert seen == sorted(created, reverse=True) and pages == 5
    assert delivery_store.get(outbound.webhook_id("evt_3", "sub", "t-1", "wa-3", created[3])).eventId == "evt_3"
