"""Sessions table: one item per session with its owner, state, inbound secret and subscriptions."""

from __future__ import annotations

import json
import re
from typing import Any

from botocore.exceptions import ClientError

from hub.delivery.subscriptions import Subscription
from hub.ingest import state
from hub.ingest.state import SessionState
from hub.platform import catalog, ddb
from hub.platform.exceptions import AlreadyExists, ChangedMeanwhile
from hub.sessions.models import ID_PATTERN, SessionRecord, SubscriptionSecrets

TABLE = catalog.SESSIONS


def _index_keys(tenant_id: str, user_id: str, status: str, bucket: str) -> dict[str, str]:
    return {
        "ownerKey": f"{tenant_id}#{user_id}",
        "statusKey": f"{tenant_id}#{status}",
        "bucketKey": f"{tenant_id}#{bucket}",
    }


def to_item(record: SessionRecord) -> dict[str, Any]:
    values = record.model_dump(exclude={"state", "subscriptions"}, exclude_none=True)
    values["state"] = record.state.model_dump_json(exclude_defaults=True)
    values["subscriptions"] = [s.model_dump(exclude_none=True) for s in record.subscriptions]
    values.update(_index_keys(record.tenantId, record.userId, record.status, record.bucket))
    return ddb.to_item(values)


def _from_item(item: dict[str, Any]) -> SessionRecord:
    return from_values(ddb.from_item(item))


def from_values(values: dict[str, Any]) -> SessionRecord:
    """A record from an item's plain values (a stream image, or a deserialized item)."""
    values = {**values, "state": SessionState.model_validate(json.loads(values.get("state") or "{}"))}
    return SessionRecord.model_validate(values)


def get(session_id: str) -> SessionRecord | None:
    """The session, or None; an id no session can have (ID_PATTERN) is not looked up (a gateway may send any
    string, and DynamoDB refuses keys over 2048 bytes)."""
    if not re.fullmatch(ID_PATTERN, session_id):
        return None
    item = (
        ddb.client()
        .get_item(TableName=ddb.name(TABLE), Key=ddb.to_item({"sessionId": session_id}), ConsistentRead=True)
        .get("Item")
    )
    return _from_item(item) if item else None


def subscription_secrets(session_id: str) -> SubscriptionSecrets | None:
    """The session's subscription secrets (a projection of its item: not its state), or None when it is gone."""
    if not re.fullmatch(ID_PATTERN, session_id):
        return None
    item = (
        ddb.client()
        .get_item(
            TableName=ddb.name(TABLE),
            Key=ddb.to_item({"sessionId": session_id}),
            ConsistentRead=True,
            ProjectionExpression="tenantId, createdAt, subscriptions",
        )
        .get("Item")
    )
    if not item:
        return None
    values = ddb.from_item(item)
    return SubscriptionSecrets(
        tenantId=values["tenantId"],
        createdAt=values["createdAt"],
        subscriptions={s.id: s for s in map(Subscription.model_validate, values.get("subscriptions") or [])},
    )


def create(record: SessionRecord) -> None:
    """Stores a new session; AlreadyExists when its id is taken."""
    with ddb.condition_failure_raises(AlreadyExists(f"Session {record.sessionId!r} already exists")):
        ddb.client().put_item(
            TableName=ddb.name(TABLE), Item=to_item(record), ConditionExpression="attribute_not_exists(sessionId)"
        )


def delete(record: SessionRecord) -> None:
    """Deletes the session; ChangedMeanwhile when it changed since `record` was read."""
    with ddb.condition_failure_raises(ChangedMeanwhile("Session changed while being deleted; retry")):
        ddb.client().delete_item(
            TableName=ddb.name(TABLE),
            Key=ddb.to_item({"sessionId": record.sessionId}),
            ConditionExpression="version = :version",
            ExpressionAttributeValues=ddb.values(version=record.version),
        )


def remove(session_id: str, tenant_id: str) -> None:
    """Deletes the session whatever its version, if it is still the tenant's (a revoked tenant's purge)."""
    try:
        ddb.client().delete_item(
            TableName=ddb.name(TABLE),
            Key=ddb.to_item({"sessionId": session_id}),
            ConditionExpression="tenantId = :tenant",
            ExpressionAttributeValues=ddb.values(tenant=tenant_id),
        )
    except ClientError as error:
        if not ddb.is_conditional_failure(error):
            raise


def save_state(before: SessionRecord, after: SessionRecord) -> bool:
    """Stores `after`'s state; False when somebody changed the session since `before` was read.

    An index key is written only when it changes, so an event that leaves the status and bucket as they were
    (loading progress, a repeated status) touches no index entry."""
    before_keys = _index_keys(before.tenantId, before.userId, before.status, before.bucket)
    after_keys = _index_keys(after.tenantId, after.userId, after.status, after.bucket)
    fields = {
        "state": after.state.model_dump_json(exclude_defaults=True),
        "status": after.status,
        "bucket": after.bucket,
        "updatedAt": after.updatedAt,
        "lastEventAt": after.lastEventAt,
        **{k: after_keys[k] for k in ("statusKey", "bucketKey") if after_keys[k] != before_keys[k]},
    }
    assignments = ", ".join(f"#{k} = :{k}" for k in fields)
    try:
        ddb.client().update_item(
            TableName=ddb.name(TABLE),
            Key=ddb.to_item({"sessionId": after.sessionId}),
            UpdateExpression=f"SET {assignments}, version = :nextVersion",
            ConditionExpression="version = :version",
            ExpressionAttributeNames={f"#{k}": k for k in fields},
            ExpressionAttributeValues=ddb.values(version=before.version, nextVersion=before.version + 1, **fields),
        )
    except ClientError as error:
        if ddb.is_conditional_failure(error):
            return False
        raise
    return True


def revoke_links(session_id: str, at_ms: int) -> None:
    """Refuses the session's connect links issued up to `at_ms`; ChangedMeanwhile when the session is gone."""
    with ddb.condition_failure_raises(ChangedMeanwhile("Session was deleted meanwhile")):
        ddb.client().update_item(
            TableName=ddb.name(TABLE),
            Key=ddb.to_item({"sessionId": session_id}),
            UpdateExpression="SET linksRevokedAt = :at",
            ConditionExpression="attribute_exists(sessionId)",
            ExpressionAttributeValues=ddb.values(at=at_ms),
        )


def save_subscriptions(record: SessionRecord, subscriptions: list[Subscription]) -> None:
    """Replaces the session's subscriptions; ChangedMeanwhile when they (not its state) changed meanwhile.

    Subscriptions carry their own version, so a session busy with status events can still be reconfigured.
    """
    with ddb.condition_failure_raises(ChangedMeanwhile("Subscriptions changed meanwhile; retry")):
        ddb.client().update_item(
            TableName=ddb.name(TABLE),
            Key=ddb.to_item({"sessionId": record.sessionId}),
            UpdateExpression="SET subscriptions = :subs, subscriptionsVersion = :next",
            ConditionExpression="attribute_exists(sessionId) AND "
            "(attribute_not_exists(subscriptionsVersion) OR subscriptionsVersion = :current)",
            ExpressionAttributeValues=ddb.values(
                subs=[s.model_dump(exclude_none=True) for s in subscriptions],
                current=record.subscriptionsVersion,
                next=record.subscriptionsVersion + 1,
            ),
        )


def query_page(
    tenant_id: str,
    *,
    user_id: str | None,
    status: str | None,
    limit: int,
    cursor: dict[str, Any] | None,
) -> tuple[list[SessionRecord], dict[str, Any] | None]:
    """One page of the tenant's sessions: `limit` keys through the narrowest index (keys only), completed from
    the table with one BatchGetItem; never a scan.

    With both `user_id` and `status`, the owner index is read and its page filtered by status (as a
    FilterExpression would: after the limit, so a page may hold fewer than `limit` sessions).
    """
    if user_id is not None:
        index, key, value = catalog.SESSIONS_BY_OWNER, "ownerKey", f"{tenant_id}#{user_id}"
    elif status is not None:
        index, key = (
            (catalog.SESSIONS_BY_BUCKET, "bucketKey")
            if status in state.BUCKETS
            else (catalog.SESSIONS_BY_STATUS, "statusKey")
        )
        value = f"{tenant_id}#{status}"
    else:
        index, key, value = catalog.SESSIONS_BY_TENANT, "tenantId", tenant_id
    params: dict[str, Any] = {
        "TableName": ddb.name(TABLE),
        "Limit": limit,
        "KeyConditionExpression": f"{key} = :pk",
        "ExpressionAttributeValues": ddb.values(pk=value),
    }
    if cursor:
        params["ExclusiveStartKey"] = cursor
    try:
        response = ddb.query_index(index, params)
    except ClientError as error:
        if cursor and ddb.error_code(error) == "ValidationException":
            raise ddb.invalid_cursor() from error
        raise
    records = [_from_item(item) for item in ddb.get_many(TABLE, [ddb.key_of(TABLE, e) for e in response["Items"]])]
    if user_id is not None and status is not None:
        records = [r for r in records if (r.bucket if status in state.BUCKETS else r.status) == status]
    return records, response.get("LastEvaluatedKey")
