"""What a session or delivery write costs in its indexes (keys only, index keys written only when they change),
the QR image drawn on read, and listings completed from the table, also through a replaced index mid-migration."""

from __future__ import annotations

import time

import boto3
import pytest

from bench import capacity
from hub.platform import catalog, ddb
from hub.platform.exceptions import InvalidCursor
from hub.sessions import qr
from hub.sessions import store as session_store
from tests.ingest.test_receiver import post_event, status_of
from tests.platform.test_store_exceptions import session as stored_session


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
    assert session_updates and not any(":listKey" in p["ExpressionAttributeValues"] for p in session_updates)


def test_a_status_change_moves_one_list_entry(api, session):
    post_event(api, session, _loading(10, 1))
    before = _item("wa-1")
    assert post_event(api, session, {"event": "ready", "data": {}, "timestamp": 1767225600000 + 5}).status == 200
    priced = capacity.write_units(_spec(), before, _item("wa-1"))
    assert set(priced) == {"table", "byTenantList"}
    assert priced["byTenantList"] == 2  # a key change: delete + put of a small entry


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


def test_listing_falls_back_to_the_retired_tenant_index_while_the_list_index_is_missing(api, tenant):
    """Mid-migration (docs/migration.md) a table may still have only the retired ALL-projection tenant index."""
    for n, user in enumerate(("owner-1", "owner-2")):
        api.create_session(tenant["apiKey"], sessionId=f"s-{n}", userId=user)
    client = boto3.client("dynamodb")
    table = ddb.name(catalog.SESSIONS)
    [retired] = [r for r in catalog.SESSIONS.retired if r.name == catalog.SESSIONS_LIST.fallback]
    client.update_table(TableName=table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "byTenantList"}}])
    client.update_table(
        TableName=table,
        AttributeDefinitions=[
            {"AttributeName": "tenantId", "AttributeType": "S"},
            {"AttributeName": "sessionId", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": retired.name,
                    "Projection": {"ProjectionType": "ALL"},
                    "KeySchema": [
                        {"AttributeName": retired.partition_key.name, "KeyType": "HASH"},
                        {"AttributeName": retired.sort_key.name, "KeyType": "RANGE"},
                    ],
                }
            }
        ],
    )
    records, _ = session_store.query_page(tenant["tenantId"], user_id=None, status=None, limit=10, cursor=None)
    assert sorted(r.sessionId for r in records) == ["s-0", "s-1"]
    loading, _ = session_store.query_page(tenant["tenantId"], user_id=None, status="loading", limit=10, cursor=None)
    assert len(loading) == 2
    none, _ = session_store.query_page(tenant["tenantId"], user_id=None, status="connected", limit=10, cursor=None)
    assert none == []


def test_get_many_keeps_the_keys_order_over_several_requests(aws):
    client = ddb.client()
    table = ddb.name(catalog.DELIVERIES)
    ids = [f"wh-{n:03d}" for n in range(230)]
    for created_key in ids:
        client.put_item(TableName=table, Item=ddb.to_item({"instanceKey": "t#i", "createdKey": created_key, "n": 1}))
    keys = [ddb.to_item({"instanceKey": "t#i", "createdKey": w}) for w in reversed(ids + ["missing"])]
    got = ddb.get_many(catalog.DELIVERIES, keys)
    assert [i["createdKey"]["S"] for i in got] == list(reversed(ids))


def test_a_status_in_two_buckets_is_listed_from_both_ranges_page_by_page(aws):
    """A status filter reads one begins_with range per bucket the status can count in, the cursor says which."""
    placed = {"d-0": "disconnected", "d-1": "disconnected", "d-2": "needsQR", "d-3": "needsQR", "d-4": "disconnected"}
    records = [(sid, "session_not_connected", bucket) for sid, bucket in placed.items()]
    records += [("c-0", "session_connected", "connected"), ("l-0", "loading", "loading")]
    for session_id, status, bucket in records:
        record = stored_session(session_id).model_copy(update={"status": status, "bucket": bucket})
        ddb.client().put_item(TableName=ddb.name(catalog.SESSIONS), Item=session_store.to_item(record))

    def pages(status):
        seen, cursor, count = [], None, 0
        while True:
            page, cursor = session_store.query_page("t-1", user_id=None, status=status, limit=2, cursor=cursor)
            seen += [r.sessionId for r in page]
            count += 1
            if cursor is None:
                return seen, count
            cursor = ddb.decode_cursor(ddb.encode_cursor(cursor))  # as the API hands it out and back

    seen, count = pages("session_not_connected")
    assert sorted(seen) == sorted(placed) and len(seen) == len(set(seen)) and count >= 3
    assert pages("needsQR")[0] == ["d-2", "d-3"]
    assert sorted(pages(None)[0]) == sorted(sid for sid, _, _ in records)
    for wrong in ({"N": "5"}, {"N": "0.5"}, {"S": "0"}):
        with pytest.raises(InvalidCursor):
            session_store.query_page("t-1", user_id=None, status="needsQR", limit=2, cursor={"range": wrong})


def test_sessions_of_an_earlier_release_get_their_list_key_once(api, tenant):
    """Migration: a session stored without `listKey` is not in the list index until the step adds it."""
    for n in range(3):
        api.create_session(tenant["apiKey"], sessionId=f"s-{n}")
    table = ddb.name(catalog.SESSIONS)
    for n in (0, 1):  # as the previous release stored them
        ddb.client().update_item(
            TableName=table,
            Key=ddb.to_item({"sessionKey": f"{tenant['tenantId']}#s-{n}"}),
            UpdateExpression="SET statusKey = :s REMOVE listKey",
            ExpressionAttributeValues=ddb.values(s=f"{tenant['tenantId']}#initializing"),
        )

    def listed():
        records, _ = session_store.query_page(tenant["tenantId"], user_id=None, status=None, limit=10, cursor=None)
        return sorted(r.sessionId for r in records)

    assert listed() == ["s-2"]
    assert session_store.add_list_keys(until=time.monotonic() + 10) == (2, True)
    assert listed() == ["s-0", "s-1", "s-2"] and "statusKey" not in _item("s-0")
    assert session_store.add_list_keys(until=time.monotonic() + 10) == (0, True)


def test_a_stored_state_abbreviates_order_keys_equal_to_its_base_and_reads_back_whole(api, tenant, session):
    assert post_event(api, session, {"event": "ready", "data": {}, "timestamp": 1767225600000 + 5}).status == 200
    stored = _item("wa-1")["state"]["S"]
    record = session_store.get(tenant["tenantId"], "wa-1")
    assert record is not None and record.state.base_key and record.state.last_key == record.state.base_key
    assert record.state.base_key not in stored.replace(record.state.base_key, "", 1)  # written once
    assert session_store.state_json(record.state) == stored
    legacy = record.state.model_dump_json(exclude_defaults=True)  # as an earlier release stored it
    assert session_store.from_values({**ddb.from_item(_item("wa-1")), "state": legacy}).state == record.state
