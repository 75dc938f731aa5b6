"""Events table: every accepted event, keyed for dedupe within the session (TTL = dedupe window)."""

from __future__ import annotations

from typing import Any

from hub import catalog
from hub.store import ddb

TABLE = catalog.EVENTS


def record_item(session_id: str, event_key: str, values: dict[str, Any], now_epoch: int, expires_at: int) -> dict[str, Any]:
    """A transaction Put that records the event unless the same one is already held (and unexpired)."""
    return {"Put": {
        "TableName": ddb.name(TABLE),
        "Item": ddb.to_item({"sessionId": session_id, "eventKey": event_key, "expiresAt": expires_at, **values}),
        "ConditionExpression": "attribute_not_exists(sessionId) OR expiresAt < :now",
        "ExpressionAttributeValues": ddb.values(now=now_epoch),
    }}


def get(session_id: str, event_key: str) -> dict[str, Any] | None:
    item = ddb.client().get_item(
        TableName=ddb.name(TABLE), Key=ddb.to_item({"sessionId": session_id, "eventKey": event_key}), ConsistentRead=True
    ).get("Item")
    return ddb.from_item(item) if item else None
