"""Ingest limit windows (hub.ingest.limits): one item per (tenant's session, fixed window) in the Counters table.

The item counts the events the session's gateway was admitted in that window, added in batches by each
receiver instance; it expires (TTL) an hour after its window.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from hub.platform import catalog, ddb

TABLE = catalog.COUNTERS
EXPIRE_AFTER_S = 3600


def _key(tenant_id: str, session_id: str, window_start: int) -> dict[str, str]:
    return {"pk": f"rate#{tenant_id}#{session_id}", "sk": f"w#{window_start}"}


def add(
    tenant_id: str, session_id: str, window_start: int, window_s: int, events: int, ceiling: int
) -> tuple[bool, int]:
    """Adds `events` to the window's count unless that would take it past `ceiling`: (added, the count now)."""
    try:
        response = ddb.client().update_item(
            TableName=ddb.name(TABLE),
            Key=ddb.to_item(_key(tenant_id, session_id, window_start)),
            UpdateExpression="ADD admitted :n SET expiresAt = if_not_exists(expiresAt, :expires)",
            ConditionExpression="attribute_not_exists(admitted) OR admitted <= :most",
            ExpressionAttributeValues=ddb.values(
                n=events, most=ceiling - events, expires=window_start + window_s + EXPIRE_AFTER_S
            ),
            ReturnValues="UPDATED_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if ddb.is_conditional_failure(error):
            return False, int(ddb.from_item(error.response.get("Item") or {}).get("admitted", ceiling))
        raise
    return True, int(ddb.from_item(response["Attributes"])["admitted"])
