"""Deliveries table: the delivery logs, newest first per instance (the table's key) and per tenant (an index).

A log is keyed by its tenant and instance (`instanceKey`) and its creation time (`createdKey`), so an instance's
logs are one partition of the table; the webhook id carries that key (hub.delivery.outbound.locate), so a log is
found from its id alone.
"""

from __future__ import annotations

import contextlib
import json
import zlib
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from hub.delivery import outbound
from hub.delivery.models import DeliveryLog, Sweep
from hub.delivery.outbound import LogLocation
from hub.platform import catalog, ddb
from hub.platform.clock import iso
from hub.platform.exceptions import AlreadyExists, ChangedMeanwhile, HubError

TABLE = catalog.DELIVERIES


TENANT_SHARDS = 8
"""Partitions of a tenant in the tenant index (catalog.DELIVERIES_BY_TENANT), by hash of the instance: a tenant
takes up to 8 x 1,000 deliveries per second before one reaches DynamoDB's per-partition write limit (one
instance's deliveries share a shard, as they share the instance's partition of the table). A tenant-wide page
reads the 8 shards (a few hundred small keys-only entries at most) and merges them. Changing it re-shards: logs
written under another count are not listed."""


def instance_key(tenant_id: str, instance_id: str) -> str:
    return f"{tenant_id}#{instance_id}"


def tenant_shard(tenant_id: str, instance_id: str) -> str:
    return f"{tenant_id}#{zlib.crc32(instance_id.encode('utf-8')) % TENANT_SHARDS}"


def _key(where: LogLocation) -> dict[str, str]:
    return {
        "instanceKey": instance_key(where.tenant_id, where.instance_id),
        "createdKey": f"{where.created_at}#{where.digest}",
    }


def key_of(log: DeliveryLog) -> dict[str, str]:
    """The log's table key, from its fields (also for a webhook id of an earlier release: `wh_` and the digest)."""
    digest = log.webhookId[3 : 3 + outbound.WEBHOOK_DIGEST_CHARS]
    return _key(LogLocation(log.tenantId, log.instanceId, log.createdAt, digest))


def key_of_id(webhook_id: str) -> dict[str, str] | None:
    """The table key of a webhook id's log; None for an id that names no log of this table."""
    where = outbound.locate(webhook_id)
    return _key(where) if where else None


def to_item(log: DeliveryLog, with_payload: bool = False) -> dict[str, Any]:
    """The log's item, without the payload (the event's record stores it, hub.ingest.store) unless asked, or
    unless the log names no event record (a delivery an earlier release queued: its record may expire first)."""
    keep_payload = with_payload or log.eventKey is None
    values = log.model_dump(
        exclude={"attemptLog", "target", "webhookId", *(() if keep_payload else ("payload",))}, exclude_none=True
    )
    values["target"] = log.target.model_dump_json(exclude_none=True)
    values["attemptLog"] = json.dumps([a.model_dump(exclude_none=True) for a in log.attemptLog])
    values.update(key_of(log), tenantShard=tenant_shard(log.tenantId, log.instanceId))
    return ddb.to_item(values)


def from_item(item: dict[str, Any]) -> DeliveryLog:
    """The log of an item; `payload` only on a log stored with its payload (a replayed set-aside record's)."""
    values = ddb.from_item(item)
    digest = values.pop("createdKey").split("#", 1)[1]
    values.pop("instanceKey")
    values.pop("tenantShard", None)
    where = LogLocation(values["tenantId"], values["instanceId"], values["createdAt"], digest)
    values["webhookId"] = outbound.located_webhook_id(where)
    values["target"] = json.loads(values["target"])
    values["attemptLog"] = json.loads(values.get("attemptLog") or "[]")
    return DeliveryLog.model_validate(values)


def create(log: DeliveryLog, with_payload: bool = False) -> None:
    """Stores a new log; AlreadyExists when it exists already. `with_payload` stores the payload in the log too:
    for a delivery replayed from a set-aside record, whose event's record may be gone."""
    with ddb.condition_failure_raises(AlreadyExists(f"Webhook log {log.webhookId!r} already exists")):
        ddb.client().put_item(
            TableName=ddb.name(TABLE),
            Item=to_item(log, with_payload),
            ConditionExpression="attribute_not_exists(instanceKey)",
        )


def get(webhook_id: str, queued: DeliveryLog | None = None) -> DeliveryLog | None:
    """The log of a webhook id, or None (no such log, or not an id of this table). `queued`, the delivery as its
    queue message carries it, gives the key itself (an id an earlier release made does not carry it)."""
    key = key_of(queued) if queued is not None else key_of_id(webhook_id)
    if key is None:
        return None
    item = ddb.client().get_item(TableName=ddb.name(TABLE), Key=ddb.to_item(key), ConsistentRead=True).get("Item")
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
            Key=ddb.to_item(key_of(after)),
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
    key = key_of(unrecorded) if unrecorded is not None else key_of_id(webhook_id)
    if key is None:
        return
    try:
        ddb.client().update_item(
            TableName=ddb.name(TABLE),
            Key=ddb.to_item(key),
            UpdateExpression="SET #status = :failed, updatedAt = :now, lastError = :error REMOVE nextAttemptAt",
            ConditionExpression="attribute_exists(instanceKey) AND #status <> :success",
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
            Key=ddb.to_item(key_of(log)),
            UpdateExpression="SET #status = :pending, updatedAt = :now, retryFrom = attempts REMOVE nextAttemptAt",
            ConditionExpression="attribute_exists(instanceKey)",
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
    """One page of the tenant's logs, newest first, then filtered by status and event (as a FilterExpression
    would: after the limit): an instance's from its partition of the table; the whole tenant's as the newest
    `limit` keys of its shards of the tenant index (keys only), completed from the table."""
    if not instance_id:
        keys, last = _tenant_keys(tenant_id, limit, cursor)
        logs = [from_item(item) for item in ddb.get_many(TABLE, keys)]
    else:
        params = {**_listing(tenant_id, instance_id), "Limit": limit, "ScanIndexForward": False}
        if cursor:
            params["ExclusiveStartKey"] = cursor
        response = _query(params, None, cursor)
        logs, last = [from_item(item) for item in response["Items"]], response.get("LastEvaluatedKey")
    return [log for log in logs if (not status or log.status == status) and (not event or log.event == event)], last


def _query(params: dict[str, Any], index: catalog.Index | None, cursor: dict[str, Any] | None) -> dict[str, Any]:
    try:
        return ddb.query_index(index, params) if index else ddb.client().query(**params)
    except ClientError as error:
        if cursor and ddb.error_code(error) == "ValidationException":
            raise ddb.invalid_cursor() from error
        raise


def _tenant_keys(
    tenant_id: str, limit: int, cursor: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The table keys of the tenant's newest `limit` logs older than the cursor's `createdKey`, and the cursor
    after them (None when none is left)."""
    before = _cursor_created_key(cursor)
    condition, values = (" AND createdKey < :before", {"before": before}) if before else ("", {})
    return _merged_keys(tenant_id, limit, condition, values, newest_first=True)


def _cursor_created_key(cursor: dict[str, Any] | None) -> str | None:
    created_key = ddb.from_item(cursor).get("createdKey") if cursor else None
    if cursor and not isinstance(created_key, str):
        raise ddb.invalid_cursor()
    return created_key


def _merged_keys(
    tenant_id: str, limit: int, condition: str, values: dict[str, str], newest_first: bool
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The first `limit` keys (by creation) of the tenant's shards of the tenant index under a key condition on
    `createdKey`, merged, and a cursor naming the last one when more are left."""
    entries: list[dict[str, Any]] = []
    more = False
    for shard in range(TENANT_SHARDS):
        params = _listing(tenant_id, None, shard)
        params["KeyConditionExpression"] += condition
        params["ExpressionAttributeValues"].update(ddb.values(**values))
        response = _query(
            {**params, "Limit": limit, "ScanIndexForward": not newest_first}, catalog.DELIVERIES_BY_TENANT, None
        )
        entries += response["Items"]
        more = more or "LastEvaluatedKey" in response
    entries.sort(key=lambda e: e["createdKey"]["S"], reverse=newest_first)
    page = entries[:limit]
    last = {"createdKey": page[-1]["createdKey"]} if page and (more or len(entries) > limit) else None
    return [ddb.key_of(TABLE, e) for e in page], last


def created_between(
    tenant_id: str, instance_id: str | None, since: str, until: str, limit: int, cursor: dict[str, Any] | None
) -> tuple[list[DeliveryLog], dict[str, Any] | None]:
    """One page of the tenant's (or the instance's) logs created from `since` to `until`, oldest first: an
    instance's partition of the table, or the tenant's shards of the tenant index merged, by a key condition on the
    creation time (never a scan), completed from the table."""
    if instance_id:
        params = _listing(tenant_id, instance_id)
        params["KeyConditionExpression"] += " AND createdKey BETWEEN :since AND :until"
        params["ExpressionAttributeValues"].update(ddb.values(since=since, until=until + "#~"))
        if cursor:
            params["ExclusiveStartKey"] = cursor
        response = _query({**params, "Limit": limit, "ScanIndexForward": True}, None, cursor)
        logs, last = [from_item(item) for item in response["Items"]], response.get("LastEvaluatedKey")
    else:
        after = _cursor_created_key(cursor)
        # Every createdKey has the same length (a time, `#`, a digest): the keys past `after` start at `after + " "`.
        low = f"{after} " if after else since
        condition = " AND createdKey BETWEEN :low AND :until"
        keys, last = _merged_keys(tenant_id, limit, condition, {"low": low, "until": until + "#~"}, newest_first=False)
        logs = [from_item(item) for item in ddb.get_many(TABLE, keys)]
    return sorted(logs, key=lambda log: (log.createdAt, log.webhookId)), last


def _listing(tenant_id: str, instance_id: str | None, shard: int = 0) -> dict[str, Any]:
    """The Query parameters that list the tenant's logs: of one instance (the table), or of one of the tenant's
    shards of the tenant index."""
    if instance_id:
        condition, pk = "instanceKey = :pk", instance_key(tenant_id, instance_id)
    else:
        condition, pk = "tenantShard = :pk", f"{tenant_id}#{shard}"
    return {
        "TableName": ddb.name(TABLE),
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": ddb.values(pk=pk),
    }


ACTIVE_STATUSES = ("pending", "retrying")
QUERY_PAGE = 100


def cancel(key: dict[str, str], reason: str, now: str) -> bool:
    """Stops a pending or retrying delivery: marked failed (the worker skips it); a payload an earlier release
    stored in the log is dropped.

    The marked log stays until its TTL, so a queued copy of the delivery finds it and is skipped
    (a deleted log would let a redelivered first message recreate and send it). False when the
    delivery was finished meanwhile.
    """
    try:
        ddb.client().update_item(
            TableName=ddb.name(TABLE),
            Key=ddb.to_item(key),
            UpdateExpression="SET #status = :failed, lastError = :reason, cancelledAt = :now, updatedAt = :now "
            "REMOVE nextAttemptAt, payload",
            ConditionExpression="#status IN (:pending, :retrying)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=ddb.values(
                failed="failed", reason=reason, now=now, pending="pending", retrying="retrying"
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
    deleted is not found again and what is cancelled is skipped (only keys are read: a page's statuses are
    read from the table, one BatchGetItem per page, only when cancelling).
    """
    done = Sweep()
    now = iso(datetime.now(UTC))

    def clear(entries: list[dict[str, Any]]) -> None:
        logs = entries
        if cancel_reason:  # only the keys were read: the status is read from the table
            keys = [ddb.to_item({"instanceKey": e["instanceKey"], "createdKey": e["createdKey"]}) for e in entries]
            found = ddb.get_many(TABLE, keys, ("instanceKey", "createdKey", "status", "cancelledAt"))
            logs = [log for log in map(ddb.from_item, found) if "cancelledAt" not in log]  # kept until its TTL
        keys_of = [{"instanceKey": log["instanceKey"], "createdKey": log["createdKey"]} for log in logs]
        active = [k for k, log in zip(keys_of, logs, strict=True) if cancel_reason and log["status"] in ACTIVE_STATUSES]
        finished = [k for k in keys_of if k not in active]
        ddb.delete_keys(TABLE, finished)
        done.deleted += len(finished)
        done.cancelled += sum(cancel(key, cancel_reason, now) for key in active if cancel_reason)

    index = None if instance_id else catalog.DELIVERIES_BY_TENANT
    for shard in range(1 if instance_id else TENANT_SHARDS):
        params = _listing(tenant_id, instance_id, shard)
        params.update(ProjectionExpression="instanceKey, createdKey", Limit=QUERY_PAGE)
        if cutoff:
            params["KeyConditionExpression"] += " AND createdKey < :cutoff"
            params["ExpressionAttributeValues"].update(ddb.values(cutoff=cutoff))
        if not ddb.query_until(params, until, clear, index):
            return done
    done.complete = True
    return done
