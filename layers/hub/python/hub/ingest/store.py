"""Events table: every accepted event, keyed for dedupe within the tenant's session (TTL = dedupe window).

A new record is the hub's commit point for an event: the table's stream feeds the dispatcher
(one delivery per target) and the aggregator (usage counts).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from hub.ingest.records import EventRecord, StoredEvent
from hub.platform import catalog, ddb
from hub.sessions.store import session_key

TABLE = catalog.EVENTS


def record(session_id: str, event_key: str, event: EventRecord, now_epoch: int, expires_at: int) -> StoredEvent | None:
    """Records the event of the tenant's (`event.tenantId`) session unless the same one is already held (and
    unexpired); returns that one (a duplicate), else None."""
    values = event.model_dump(exclude={"targets"}, exclude_none=True)
    values["targets"] = [t.model_dump(exclude_none=True) for t in event.targets]
    item = {
        "sessionKey": session_key(event.tenantId, session_id),
        "sessionId": session_id,
        "eventKey": event_key,
        "expiresAt": expires_at,
        **values,
    }
    try:
        ddb.client().put_item(
            TableName=ddb.name(TABLE),
            Item=ddb.to_item(item),
            ConditionExpression="attribute_not_exists(sessionKey) OR expiresAt < :now",
            ExpressionAttributeValues=ddb.values(now=now_epoch),
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if ddb.is_conditional_failure(error) and "Item" in error.response:
            return from_item(error.response["Item"])
        raise
    return None


def newly_recorded(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
    """For a change to an event record (stream images): True when it records an event, i.e. an insert,
    or a key recorded again after its dedupe window ran out; not a TTL removal."""
    if not new:
        return False
    return not old or old.get("receivedAt") != new.get("receivedAt")


def from_item(item: dict[str, Any]) -> StoredEvent:
    """An event record from its item, as read from the table or from a stream image."""
    return StoredEvent.model_validate(ddb.from_item(item))


def delete_of_session(session_id: str, tenant_id: str, until: float) -> tuple[int, bool]:
    """Deletes the events the tenant's session recorded, until `until` (monotonic); returns (count, complete)."""
    params: dict[str, Any] = {
        "TableName": ddb.name(TABLE),
        "KeyConditionExpression": "sessionKey = :key",
        "ExpressionAttributeValues": ddb.values(key=session_key(tenant_id, session_id)),
        "ProjectionExpression": "sessionKey, eventKey",
        "Limit": 100,
    }
    deleted = 0

    def delete(keys: list[dict[str, Any]]) -> None:
        nonlocal deleted
        ddb.delete_keys(TABLE, keys)
        deleted += len(keys)

    complete = ddb.query_until(params, until, delete)
    return deleted, complete
