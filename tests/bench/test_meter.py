"""The bench's meter prices what requests really did: whole items read before and after each write, the
table's indexes read from DescribeTable (moto stands in for DynamoDB; no hub handler involved)."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from bench import harness


def s(text: str) -> dict:
    return {"S": text}


@pytest.fixture
def metered():
    with mock_aws():
        boto3.client("dynamodb").create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "status", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "byStatus",
                    "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        meter = harness.Meter(sizing=True).attach()
        try:
            yield boto3.client("dynamodb"), meter
        finally:
            meter.detach()


def test_writes_are_priced_on_the_table_and_on_each_index_entry_they_change(metered):
    client, meter = metered
    client.put_item(TableName="t", Item={"pk": s("a"), "status": s("new"), "body": s("x" * 1500)})
    client.update_item(
        TableName="t",
        Key={"pk": s("a")},
        UpdateExpression="SET #s = :v",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":v": s("done")},
    )
    client.update_item(TableName="t", Key={"pk": s("a")}, UpdateExpression="REMOVE body")
    with pytest.raises(ClientError):
        client.put_item(TableName="t", Item={"pk": s("a")}, ConditionExpression="attribute_not_exists(pk)")
    with pytest.raises(ClientError):  # a reserved word: refused before anything is read or written
        client.update_item(TableName="t", Key={"pk": s("a")}, UpdateExpression="REMOVE status")
    client.delete_item(TableName="t", Key={"pk": s("a")})
    assert [c.item_units for c in meter.snapshot()] == [
        [("Put", "t", "table", 2.0), ("Put", "t", "byStatus", 2.0)],  # 1.5 KB: 2 units, the new entry too
        [("Update", "t", "table", 2.0), ("Update", "t", "byStatus", 4.0)],  # index key change: delete + put
        [("Update", "t", "table", 2.0), ("Update", "t", "byStatus", 2.0)],  # the larger entry, before
        [("Put", "t", "table", 1.0)],  # condition failed: the table only
        [],  # not billed
        [("Delete", "t", "table", 1.0), ("Delete", "t", "byStatus", 1.0)],
    ]


def test_a_projected_read_is_priced_by_the_whole_items_it_read(metered):
    client, meter = metered
    client.put_item(TableName="t", Item={"pk": s("a"), "status": s("new"), "body": s("x" * 5000)})
    meter.reset()
    client.get_item(TableName="t", Key={"pk": s("a")}, ProjectionExpression="pk", ConsistentRead=True)
    client.query(
        TableName="t",
        IndexName="byStatus",
        KeyConditionExpression="#s = :v",
        ProjectionExpression="pk",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":v": s("new")},
    )
    assert [c.read_targets for c in meter.snapshot()] == [[("t", 2.0)], [("t.byStatus", 1.0)]]
