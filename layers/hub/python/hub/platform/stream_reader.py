"""Reading a DynamoDB stream back: the records of a batch Lambda gave up on, while the stream still holds them."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

import boto3
from botocore.exceptions import ClientError

from hub.platform.ddb import CLIENT_CONFIG
from hub.platform.exceptions import NoLongerHeld

MAX_READS = 100
"""GetRecords calls a range may take (a batch Lambda gives up on holds at most 10,000 records)."""


@cache
def client():
    return boto3.client("dynamodbstreams", config=CLIENT_CONFIG)


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record in the shape of Lambda's DynamoDB stream event."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**{k: v for k, v in record.items() if k != "dynamodb"}, "dynamodb": change, "eventSourceARN": stream_arn}


def read_range(stream_arn: str, shard_id: str, first: str, last: str) -> list[dict[str, Any]]:
    """The shard's records from sequence number `first` to `last`, as Lambda delivers them; NoLongerHeld when the
    stream cannot give them (TrimmedDataAccessException, ResourceNotFoundException, ...)."""
    try:
        return _read_range(stream_arn, shard_id, first, last)
    except ClientError as error:
        raise NoLongerHeld(f"{type(error).__name__}: {error}") from error


def _read_range(stream_arn: str, shard_id: str, first: str, last: str) -> list[dict[str, Any]]:
    iterator = client().get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=first
    )["ShardIterator"]
    records: list[dict[str, Any]] = []
    for _ in range(MAX_READS):
        response = client().get_records(ShardIterator=iterator)
        for record in response["Records"]:
            if int(record["dynamodb"]["SequenceNumber"]) > int(last):
                return records
            records.append(lambda_record(record, stream_arn))
        iterator = response.get("NextShardIterator")
        if not iterator or (records and records[-1]["dynamodb"]["SequenceNumber"] == last):
            return records
    return records
