"""What a session or delivery write costs in its indexes (keys only, index keys written only when they change),
the QR image drawn on read, and listings completed from the table, also through a replaced index mid-migration."""

from __future__ import annotations

import boto3
import pytest

from bench import capacity
from hub.platform import catalog, ddb
from hub.sessions import qr
from hub.sessions import store as session_store

from .test_receiver import post_event, status_of


@pytest.fixture
def session(api, tenant):
    created = api.create_session(tenant["apiKey"], sessionId="wa-1", userId="owner-1")
    return {**created, "apiKey": tenant["apiKey"]}


def _item(session_id: str) -> dict:
    [item] = ddb.client().scan(
        TableName=ddb.name(catalog.SESSIONS),
        FilterExpression="sessionId = :s",
        ExpressionAttributeValues=ddb.values(s=session_id),
        ConsistentRead=True,
    )["Items"]
    return item


def _spec() -> capacity.TableSpec:
    return capacity.TableSpec.from_description(
        ddb.client().describe_table(TableName=ddb.name(catalog.SESSIONS))["Table"]
    )


def _loading(percent: int, n: int) -> dict:
    return {
        "event": "loading_screen",
        "data": {"percent": percent, "message": "WhatsApp"},
        "timestamp": 1767225600000 + n,
    }


def test_loading_progress_touches_no_index_entry(api, session):
    post_event(api, session, _loading(10, 1))
    before = _item("wa-1")
    updates = []
    ddb.client().meta.events.register(
        "before-parameter-build.dynamodb.UpdateItem", lambda params, **_: updates.append(params)
    )
    assert post_event(api, session, _loading(55, 2)).status == 200
    after = _item("wa-1")
    assert status_of(api, session)["loadingPercent"] == 55
    assert capacity.write_units(_spec(), before, after) == {"table": 1}
    session_updates = [p for p in updates if p["TableName"] == ddb.name(catalog.SESSIONS)]
    assert session_updates and not any(
        k in p["ExpressionAttributeValues"] for p in session_updates for k in (":statusKey", ":bucketKey")
    )


def test_a_status_change_rewrites_only_the_status_and_bucket_entries(api, session):
    post_event(api, session, _loading(10, 1))
    before = _item("wa-1")
    assert post_event(api, session, {"event": "ready", "data": {}, "timestamp": 1767225600000 + 5}).status == 200
    priced = capacity.write_units(_spec(), before, _item("wa-1"))
    assert set(priced) == {"table", "byStatusKeys", "byBucketKeys"}
    assert priced["byStatusKeys"] == priced["byBucketKeys"] == 2  # a key change: delete + put of a small entry


def test_the_qr_image_is_drawn_on_read_not_stored(api, session):
    text = "1@ABC,def,ghi"
    post_event(api, session, {"event": "qr", "data": {"qr": text}})
    assert "data:image" not in str(_item("wa-1"))
    assert status_of(api, session)["qrImage"] == qr.png_data_url(text)


def test_listing_reads_keys_from_the_index_and_the_sessions_from_the_table(api, tenant):
    for n in range(3):
        api.create_session(tenant["apiKey"], sessionId=f"s-{n}", userId="owner-1")
    calls = []
    ddb.client().meta.events.register(
        "before-parameter-build.dynamodb", lambda params, model, **_: calls.append(model.name)
    )
    reply = api.call("GET", "/api/whatsapp/session/list-realtime?limit=2", api_key=tenant["apiKey"])
    assert [s["sessionId"] for s in reply.data] == ["s-0", "s-1"] and reply.data[0]["userId"] == "owner-1"
    assert "BatchGetItem" in calls and "Scan" not in calls
    assert all(
        i["Projection"] == {"ProjectionType": "KEYS_ONLY"}
        for i in ddb.client().describe_table(TableName=ddb.name(catalog.SESSIONS))["Table"]["GlobalSecondaryIndexes"]
    )


def test_listing_falls_back_to_the_replaced_index_while_the_new_one_is_missing(api, tenant):
    """Mid-migration (docs/migration.md) a table may still have only the replaced ALL-projection index."""
    api.create_session(tenant["apiKey"], sessionId="s-0", userId="owner-1")
    client = boto3.client("dynamodb")
    table = ddb.name(catalog.SESSIONS)
    old = catalog.SESSIONS_BY_TENANT
    client.update_table(TableName=table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": old.name}}])
    client.update_table(
        TableName=table,
        AttributeDefinitions=[
            {"AttributeName": "tenantId", "AttributeType": "S"},
            {"AttributeName": "sessionId", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": old.replaces,
                    "Projection": {"ProjectionType": "ALL"},
                    "KeySchema": [
                        {"AttributeName": "tenantId", "KeyType": "HASH"},
                        {"AttributeName": "sessionId", "KeyType": "RANGE"},
                    ],
                }
            }
        ],
    )
    records, _ = session_store.query_page(tenant["tenantId"], user_id=None, status=None, limit=10, cursor=None)
    assert [r.sessionId for r in records] == ["s-0"]


def test_get_many_keeps_the_keys_order_over_several_requests(aws):
    client = ddb.client()
    table = ddb.name(catalog.DELIVERIES)
    ids = [f"wh-{n:03d}" for n in range(230)]
    for webhook_id in ids:
        client.put_item(TableName=table, Item=ddb.to_item({"webhookId": webhook_id, "n": 1}))
    keys = [ddb.to_item({"webhookId": w}) for w in reversed(ids + ["missing"])]
    got = ddb.get_many(catalog.DELIVERIES, keys)
    assert [i["webhookId"]["S"] for i in got] == list(reversed(ids))
