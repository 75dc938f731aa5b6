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
from hub.delivery.models import DeliveryMessage
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
    assert len(logs(api, key)) == 4 and index_queries == ["byTenantKeys"]

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
