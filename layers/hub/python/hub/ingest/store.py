"""Events table: every accepted event, keyed for dedupe within the tenant's session.

A new record is the hub's commit point for an event: the table's stream feeds the dispatcher
(one delivery per target) and the aggregator (usage counts). The record is also where the event's
outbound payload is stored, once: its delivery logs refer to it (hub.delivery.store) instead of
copying it. So a record lives as long as its logs may need it (`expiresAt`, the TTL: the log retention
for an event with subscribers), while it counts as a duplicate only within the dedupe window after its
`receivedAt`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from hub.ingest.records import EventRecord, StoredEvent
from hub.platform import catalog, ddb
from hub.sessions.store import session_key

TABLE = catalog.EVENTS


def record(
    session_id: str, event_key: str, event: EventRecord, dedupe_since: str, expires_at: int
) -> StoredEvent | None:
    """Records the event of the tenant's (`event.tenantId`) session unless the same one was recorded at or after
    `dedupe_since` (the start of the dedupe window, an ISO time as `receivedAt`); returns that one (a duplicate),
    else None. The record is kept until `expires_at` (its TTL): as long as its delivery logs, which send and show
    its payload."""
    # Nothing stored twice (read back by from_values): the id and type are in the payload (its `id` and `event`),
    # the tenant in `sessionKey`, a target's defaults are left out: a message's record stays < 1 KB.
    values = event.model_dump(exclude={"targets", "eventId", "event", "tenantId"}, exclude_none=True)
    values["targets"] = [t.model_dump(exclude_none=True, exclude_defaults=True) for t in event.targets]
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
            ConditionExpression="attribute_not_exists(sessionKey) OR receivedAt < :since",
            ExpressionAttributeValues=ddb.values(since=dedupe_since),
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if ddb.is_conditional_failure(error) and "Item" in error.response:
            return from_item(error.response["Item"])
        raise
    return None


def payload_of(tenant_id: str, session_id: str, event_key: str, event_id: str) -> str | None:
    """The stored outbound payload of the event `event_id` (recorded under that key of the tenant's session), or
    None when the record is gone (expired, purged) or now holds another occurrence (the key was recorded again
    after its dedupe window)."""
    item = (
        ddb.client()
        .get_item(
            TableName=ddb.name(TABLE),
            Key=ddb.to_item({"sessionKey": session_key(tenant_id, session_id), "eventKey": event_key}),
            ProjectionExpression="payload",
            ConsistentRead=True,
        )
        .get("Item")
    )
    payload = ddb.from_item(item).get("payload") if item else None
    return payload if _envelope(payload).get("id") == event_id else None


def newly_recorded(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
    """For a change to an event record (stream images): True when it records an event, i.e. an insert,
    or a key recorded again after its dedupe window ran out; not a TTL removal."""
    if not new:
        return False
    return not old or old.get("receivedAt") != new.get("receivedAt")


def from_item(item: dict[str, Any]) -> StoredEvent:
    """An event record from its item, as read from the table."""
    return from_values(ddb.from_item(item))


def from_values(values: Mapping[str, Any]) -> StoredEvent:
    """An event record from an item's plain values (a stream image, or a deserialized item): its id and type are
    read from its payload, its tenant from `sessionKey` (a record of an earlier release also stores them apart)."""
    if "tenantId" not in values:
        values = {"tenantId": tenant_of(values), **values}
    if "eventId" not in values or "event" not in values:
        envelope = _envelope(values.get("payload"))
        found = {"eventId": envelope.get("id"), "event": envelope.get("event")}
        values = {**{k: v for k, v in found.items() if isinstance(v, str)}, **values}
    return StoredEvent.model_validate(values)  # a ValidationError for a record that is no event


def tenant_of(values: Mapping[str, Any]) -> str:
    """The tenant of an event record's plain values: the head of its `sessionKey` (`<tenantId>#<sessionId>`;
    tenant ids hold no `#`), or the `tenantId` a record of an earlier release stores."""
    return values.get("tenantId") or str(values.get("sessionKey", "")).partition("#")[0]


def _envelope(payload: Any) -> dict[str, Any]:
    try:
        envelope = json.loads(payload) if isinstance(payload, str) else {}
    except ValueError:
        return {}
    return envelope if isinstance(envelope, dict) else {}


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
        ddb.write_batch(TABLE, deletes=keys)
        deleted += len(keys)

    complete = ddb.query_until(params, until, delete)
    return deleted, complete
