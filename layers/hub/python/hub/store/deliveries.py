"""Deliveries table: the delivery logs, newest first per tenant and per instance."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

from botocore.exceptions import ClientError
from hub import catalog
from hub.deliveries import DeliveryLog
from hub.store import ddb

TABLE = catalog.DELIVERIES


def _index_keys(log: DeliveryLog) -> dict[str, str]:
    return {
        "instanceKey": f"{log.tenantId}#{log.instanceId}",
        "createdKey": f"{log.createdAt}#{log.webhookId}",
    }


def to_item(log: DeliveryLog) -> dict[str, Any]:
    values = log.model_dump(exclude={"attemptLog", "target"}, exclude_none=True)
    values["target"] = log.target.model_dump_json(exclude_none=True)
    values["attemptLog"] = json.dumps([a.model_dump(exclude_none=True) for a in log.attemptLog])
    values.update(_index_keys(log))
    return ddb.to_item(values)


def from_item(item: dict[str, Any]) -> DeliveryLog:
    values = ddb.from_item(item)
    values["target"] = json.loads(values["target"])
    values["attemptLog"] = json.loads(values.get("attemptLog") or "[]")
    return DeliveryLog.model_validate(values)


def create(log: DeliveryLog) -> None:
    """Stores a new log; ConditionalCheckFailed when it exists already."""
    ddb.client().put_item(TableName=ddb.name(TABLE), Item=to_item(log), ConditionExpression="attribute_not_exists(webhookId)")


def get(webhook_id: str) -> DeliveryLog | None:
    item = ddb.client().get_item(
        TableName=ddb.name(TABLE), Key=ddb.to_item({"webhookId": webhook_id}), ConsistentRead=True
    ).get("Item")
    return from_item(item) if item else None


def record_attempt(before: DeliveryLog, after: DeliveryLog, stored: bool) -> bool:
    """Stores the log after an attempt unless another worker recorded that attempt first (then False).

    `stored` says whether `before` was read from the table; if not (a first attempt sent from
    the queue message alone), the attempt creates the log.
    """
    try:
        if not stored:
            create(after)
            return True
        item = ddb.from_item(to_item(after))
        fields = {k: item[k] for k in ("status", "attempts", "attemptLog", "updatedAt") if k in item}
        removes = [] if after.nextAttemptAt else ["nextAttemptAt"]
        if after.nextAttemptAt:
            fields["nextAttemptAt"] = after.nextAttemptAt
        expression = "SET " + ", ".join(f"#{k} = :{k}" for k in fields)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        ddb.client().update_item(
            TableName=ddb.name(TABLE),
            Key=ddb.to_item({"webhookId": after.webhookId}),
            UpdateExpression=expression,
            ConditionExpression="attempts = :expected",
            ExpressionAttributeNames={f"#{k}": k for k in fields},
            ExpressionAttributeValues=ddb.values(expected=before.attempts, **fields),
        )
    except ClientError as error:
        if ddb.is_conditional_failure(error):
            return False
        raise
    return True


def mark_failed(webhook_id: str, error: str, now: str, unrecorded: DeliveryLog | None = None) -> None:
    """Marks a delivery failed without an attempt (the worker could not handle it); never raises.

    `unrecorded` is the delivery as queued, to store as failed when no attempt ever created its log.
    """
    try:
        ddb.client().update_item(
            TableName=ddb.name(TABLE),
            Key=ddb.to_item({"webhookId": webhook_id}),
            UpdateExpression="SET #status = :failed, updatedAt = :now, lastError = :error REMOVE nextAttemptAt",
            ConditionExpression="attribute_exists(webhookId) AND #status <> :success",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=ddb.values(failed="failed", now=now, error=error, success="success"),
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as failure:
        never_recorded = ddb.is_conditional_failure(failure) and "Item" not in failure.response
        if unrecorded is not None and never_recorded:
            with contextlib.suppress(ClientError):
                create(unrecorded.model_copy(update={"status": "failed", "updatedAt": now, "lastError": error}))


def requeue(log: DeliveryLog, now: str) -> DeliveryLog:
    """Marks a delivery pending again for a manual retry; returns the updated log."""
    response = ddb.client().update_item(
        TableName=ddb.name(TABLE),
        Key=ddb.to_item({"webhookId": log.webhookId}),
        UpdateExpression="SET #status = :pending, updatedAt = :now, retryFrom = attempts REMOVE nextAttemptAt",
        ConditionExpression="attribute_exists(webhookId)",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues=ddb.values(pending="pending", now=now),
        ReturnValues="ALL_NEW",
    )
    return from_item(response["Attributes"])


def query_page(tenant_id: str, *, instance_id: str | None, status: str | None, event: str | None,
               limit: int, cursor: dict[str, Any] | None) -> tuple[list[DeliveryLog], dict[str, Any] | None]:
    """One page of the tenant's logs, newest first, through the tenant or instance index."""
    if instance_id:
        params: dict[str, Any] = {"IndexName": "byInstance", "KeyConditionExpression": "instanceKey = :pk",
                                  "ExpressionAttributeValues": ddb.values(pk=f"{tenant_id}#{instance_id}")}
    else:
        params = {"IndexName": "byTenant", "KeyConditionExpression": "tenantId = :pk",
                  "ExpressionAttributeValues": ddb.values(pk=tenant_id)}
    filters, names = [], {}
    if status:
        filters.append("#status = :status")
        names["#status"] = "status"
        params["ExpressionAttributeValues"].update(ddb.values(status=status))
    if event:
        filters.append("#event = :event")
        names["#event"] = "event"
        params["ExpressionAttributeValues"].update(ddb.values(event=event))
    if filters:
        params.update(FilterExpression=" AND ".join(filters), ExpressionAttributeNames=names)
    if cursor:
        params["ExclusiveStartKey"] = cursor
    try:
        response = ddb.client().query(TableName=ddb.name(TABLE), Limit=limit, ScanIndexForward=False, **params)
    except ClientError as error:
        if cursor and ddb.error_code(error) == "ValidationException":
            raise ValueError("cursor is not valid") from error
        raise
    return [from_item(item) for item in response["Items"]], response.get("LastEvaluatedKey")


def delete_older_than(tenant_id: str, instance_id: str | None, cutoff: str | None) -> int:
    """Deletes the tenant's logs (of one instance, created before `cutoff` when given); returns the count."""
    if instance_id:
        condition, pk = "instanceKey = :pk", f"{tenant_id}#{instance_id}"
        index = "byInstance"
    else:
        condition, pk = "tenantId = :pk", tenant_id
        index = "byTenant"
    expression_values = ddb.values(pk=pk)
    if cutoff:
        condition += " AND createdKey < :cutoff"
        expression_values.update(ddb.values(cutoff=cutoff))
    pages = ddb.client().get_paginator("query").paginate(
        TableName=ddb.name(TABLE), IndexName=index, KeyConditionExpression=condition,
        ExpressionAttributeValues=expression_values, ProjectionExpression="webhookId",
    )
    keys = [{"DeleteRequest": {"Key": {"webhookId": item["webhookId"]}}} for page in pages for item in page["Items"]]
    for start in range(0, len(keys), 25):
        pending = {ddb.name(TABLE): keys[start:start + 25]}
        for pause in (0, 0.05, 0.1, 0.2, 0.4, 0.8):
            time.sleep(pause)
            pending = ddb.client().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
        else:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "logs still unprocessed"}}, "BatchWriteItem")
    return len(keys)
