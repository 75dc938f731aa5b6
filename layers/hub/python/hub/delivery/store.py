"""Deliveries table: the delivery logs, newest first per tenant and per instance."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from hub.delivery.models import DeliveryLog, Sweep
from hub.platform import catalog, ddb
from hub.platform.clock import iso
from hub.platform.exceptions import AlreadyExists, ChangedMeanwhile, HubError

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
    """Stores a new log; AlreadyExists when it exists already."""
    with ddb.condition_failure_raises(AlreadyExists(f"Webhook log {log.webhookId!r} already exists")):
        ddb.client().put_item(
            TableName=ddb.name(TABLE), Item=to_item(log), ConditionExpression="attribute_not_exists(webhookId)"
        )


def get(webhook_id: str) -> DeliveryLog | None:
    item = (
        ddb.client()
        .get_item(TableName=ddb.name(TABLE), Key=ddb.to_item({"webhookId": webhook_id}), ConsistentRead=True)
        .get("Item")
    )
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
        fields: dict[str, Any] = {k: item[k] for k in ("status", "attempts", "attemptLog", "updatedAt") if k in item}
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
    except AlreadyExists:
        return False
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
            with contextlib.suppress(ClientError, HubError):
                create(unrecorded.model_copy(update={"status": "failed", "updatedAt": now, "lastError": error}))


def requeue(log: DeliveryLog, now: str) -> DeliveryLog:
    """Marks a delivery pending again for a manual retry; returns the updated log. ChangedMeanwhile when the log
    went meanwhile."""
    with ddb.condition_failure_raises(ChangedMeanwhile(f"Webhook log {log.webhookId!r} was deleted meanwhile")):
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


def query_page(
    tenant_id: str,
    *,
    instance_id: str | None,
    status: str | None,
    event: str | None,
    limit: int,
    cursor: dict[str, Any] | None,
) -> tuple[list[DeliveryLog], dict[str, Any] | None]:
    """One page of the tenant's logs, newest first: `limit` keys from the tenant or instance index (keys only),
    completed from the table, then filtered by status and event (as a FilterExpression would: after the limit)."""
    index, params = _listing(tenant_id, instance_id)
    if cursor:
        params["ExclusiveStartKey"] = cursor
    try:
        response = ddb.query_index(index, {**params, "Limit": limit, "ScanIndexForward": False})
    except ClientError as error:
        if cursor and ddb.error_code(error) == "ValidationException":
            raise ddb.invalid_cursor() from error
        raise
    logs = [from_item(item) for item in ddb.get_many(TABLE, [ddb.key_of(TABLE, e) for e in response["Items"]])]
    return [
        log for log in logs if (not status or log.status == status) and (not event or log.event == event)
    ], response.get("LastEvaluatedKey")


def created_between(
    tenant_id: str, instance_id: str | None, since: str, until: str, limit: int, cursor: dict[str, Any] | None
) -> tuple[list[DeliveryLog], dict[str, Any] | None]:
    """One page of the tenant's (or the instance's) logs created from `since` to `until`, oldest first: `limit`
    keys from the index (a key condition on the creation time, never a scan), completed from the table."""
    index, params = _listing(tenant_id, instance_id)
    params["KeyConditionExpression"] += " AND createdKey BETWEEN :since AND :until"
    params["ExpressionAttributeValues"].update(ddb.values(since=since, until=until + "#~"))
    if cursor:
        params["ExclusiveStartKey"] = cursor
    response = ddb.query_index(index, {**params, "Limit": limit, "ScanIndexForward": True})
    logs = [from_item(item) for item in ddb.get_many(TABLE, [ddb.key_of(TABLE, e) for e in response["Items"]])]
    return sorted(logs, key=lambda log: (log.createdAt, log.webhookId)), response.get("LastEvaluatedKey")


def _listing(tenant_id: str, instance_id: str | None) -> tuple[catalog.Index, dict[str, Any]]:
    """The index and Query parameters that list the tenant's logs (of one instance when given)."""
    if instance_id:
        index, condition, pk = catalog.DELIVERIES_BY_INSTANCE, "instanceKey = :pk", f"{tenant_id}#{instance_id}"
    else:
        index, condition, pk = catalog.DELIVERIES_BY_TENANT, "tenantId = :pk", tenant_id
    return index, {
        "TableName": ddb.name(TABLE),
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": ddb.values(pk=pk),
    }


ACTIVE_STATUSES = ("pending", "retrying")
QUERY_PAGE = 100


def cancel(webhook_id: str, reason: str, now: str) -> bool:
    """Stops a pending or retrying delivery: marked failed (the worker skips it), its payload dropped.

    The marked log stays until its TTL, so a queued copy of the delivery finds it and is skipped
    (a deleted log would let a redelivered first message recreate and send it). False when the
    delivery was finished meanwhile.
    """
    try:
        ddb.client().update_item(
            TableName=ddb.name(TABLE),
            Key=ddb.to_item({"webhookId": webhook_id}),
            UpdateExpression="SET #status = :failed, lastError = :reason, cancelledAt = :now, updatedAt = :now, "
            "payload = :none REMOVE nextAttemptAt",
            ConditionExpression="#status IN (:pending, :retrying)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=ddb.values(
                failed="failed", reason=reason, now=now, none="null", pending="pending", retrying="retrying"
            ),
        )
    except ClientError as error:
        if ddb.is_conditional_failure(error):
            return False
        raise
    return True


def sweep(
    tenant_id: str,
    instance_id: str | None,
    *,
    until: float,
    cutoff: str | None = None,
    cancel_reason: str | None = None,
) -> Sweep:
    """Deletes the tenant's logs (of one instance, created before `cutoff` when given) until `until` (monotonic).

    With `cancel_reason`, pending and retrying deliveries are cancelled (see `cancel`) instead of deleted.
    Work stops at the deadline with `complete` False; sweeping again carries on, since what is
    deleted is not found again and what is cancelled is skipped (the index holds keys only: a page's
    statuses are read from the table, one BatchGetItem per page, only when cancelling).
    """
    index, params = _listing(tenant_id, instance_id)
    params.update(ProjectionExpression="webhookId", Limit=QUERY_PAGE)
    if cutoff:
        params["KeyConditionExpression"] += " AND createdKey < :cutoff"
        params["ExpressionAttributeValues"].update(ddb.values(cutoff=cutoff))
    done = Sweep()
    now = iso(datetime.now(UTC))

    def clear(entries: list[dict[str, Any]]) -> None:
        logs = entries
        if cancel_reason:  # the index has keys only: the status is read from the table
            keys = [ddb.to_item({"webhookId": e["webhookId"]}) for e in entries]
            logs = [ddb.from_item(i) for i in ddb.get_many(TABLE, keys, ("webhookId", "status", "cancelledAt"))]
            logs = [log for log in logs if "cancelledAt" not in log]  # cancelled already: kept until its TTL
        active = {log["webhookId"] for log in logs if cancel_reason and log["status"] in ACTIVE_STATUSES}
        finished = [{"webhookId": log["webhookId"]} for log in logs if log["webhookId"] not in active]
        ddb.delete_keys(TABLE, finished)
        done.deleted += len(finished)
        done.cancelled += sum(cancel(webhook_id, cancel_reason, now) for webhook_id in active if cancel_reason)

    done.complete = ddb.query_until(params, until, clear, index)
    return done
