"""Creates the catalog's tables and queues on an embedded AWS (moto), for the local hub and the tests."""

from __future__ import annotations

import json
import os

import boto3

from hub.platform import catalog

REGION = "us-east-1"
FAKE_AWS_ENV: dict[str, str] = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}
"""Region and credentials for the embedded AWS (moto accepts any); never real ones."""

ADMIN_KEY_SECRET_NAME = "wa-hub-admin-key"
"""The operator key's secret, where a test plays the cloud (the local hub uses ADMIN_API_KEY instead)."""


def _key_schema(partition: catalog.Key, sort: catalog.Key | None) -> list[dict]:
    schema = [{"AttributeName": partition.name, "KeyType": "HASH"}]
    if sort:
        schema.append({"AttributeName": sort.name, "KeyType": "RANGE"})
    return schema


def _attribute_definitions(table: catalog.Table) -> list[dict]:
    keys = [table.partition_key, table.sort_key]
    for index in table.indexes:
        keys += [index.partition_key, index.sort_key]
    unique = {k.name: k.type for k in keys if k}
    return [{"AttributeName": name, "AttributeType": kind} for name, kind in unique.items()]


def local_table_name(table: catalog.Table) -> str:
    return f"wa-hub-{table.id.lower()}"


def create_table(client, table: catalog.Table) -> None:
    """Creates the table and exports its name into the environment (the functions' TABLE variables)."""
    name = os.environ[table.env_var] = local_table_name(table)
    params: dict = {
        "TableName": name,
        "KeySchema": _key_schema(table.partition_key, table.sort_key),
        "AttributeDefinitions": _attribute_definitions(table),
        "BillingMode": "PAY_PER_REQUEST",
    }
    if table.indexes:
        params["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": _key_schema(index.partition_key, index.sort_key),
                "Projection": {
                    "ProjectionType": index.projection,
                    **({"NonKeyAttributes": list(index.non_key_attributes)} if index.non_key_attributes else {}),
                },
            }
            for index in table.indexes
        ]
    if table.stream:
        params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
    client.create_table(**params)
    if table.ttl_attribute:
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
        )


def local_queue_names(queue: catalog.Queue) -> tuple[str, str]:
    """The queue's and its DLQ's names."""
    return f"wa-hub-{queue.id.lower()}", f"wa-hub-{queue.id.lower()}-dlq"


def create_queue(client, queue: catalog.Queue, visibility_timeout_s: int | None = None) -> None:
    """Creates the queue and its DLQ and exports their URLs into the environment. The visibility timeout is
    the stack's (catalog.visibility_timeout_s) unless given."""
    name, dlq_name = local_queue_names(queue)
    dlq_url = client.create_queue(
        QueueName=dlq_name,
        Attributes={"MessageRetentionPeriod": str(queue.dlq_retention_days * 86400)},
    )["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = client.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(visibility_timeout_s or catalog.visibility_timeout_s(queue)),
            "MessageRetentionPeriod": str(queue.retention_days * 86400),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(queue.max_receive_count)}
            ),
        },
    )["QueueUrl"]
    os.environ[queue.env_var] = url
    os.environ[queue.dead_letter_env_var] = dlq_url


def local_failure_queue_name(queue: catalog.FailureQueue) -> str:
    return f"wa-hub-{queue.id.lower()}"


def create_failure_queue(client, queue: catalog.FailureQueue) -> None:
    """Creates a stream function's failure queue (no DLQ: what is there waits for a replay) and exports its URL."""
    os.environ[queue.env_var] = client.create_queue(
        QueueName=local_failure_queue_name(queue),
        Attributes={"MessageRetentionPeriod": str(queue.retention_days * 24 * 3600)},
    )["QueueUrl"]


def create_all(visibility_timeout_s: int | None = None) -> None:
    """Creates every table and queue of the catalog with the current credentials and endpoint; the queues'
    visibility timeout is the stack's unless given (the tests shorten it)."""
    dynamodb = boto3.client("dynamodb")
    for table in catalog.TABLES:
        create_table(dynamodb, table)
    sqs = boto3.client("sqs")
    for queue in catalog.QUEUES:
        create_queue(sqs, queue, visibility_timeout_s)
    for failure_queue in catalog.FAILURE_QUEUES:
        create_failure_queue(sqs, failure_queue)


_atomic = False


def make_dynamodb_requests_atomic() -> None:
    """Makes moto's DynamoDB requests atomic, as DynamoDB's are (idempotent, process-wide).

    moto applies an update as read-modify-write in place, restores a snapshot of every table
    when a transaction fails, and serializes a read's items after reading them, all with no
    lock: concurrent requests (the delivery worker's threads, the local hub's functions, the
    receiver's concurrent copies) would lose updates, or read an item mid-write, where DynamoDB
    never does. One lock around each DynamoDB request, serialization included, restores
    DynamoDB's per-request atomicity.
    """
    global _atomic
    if _atomic:
        return
    import threading

    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()
    original = DynamoHandler.call_action

    def locked(self, *args, **kwargs):
        with lock:
            return original(self, *args, **kwargs)

    DynamoHandler.call_action = locked  # type: ignore[method-assign]
    _atomic = True
