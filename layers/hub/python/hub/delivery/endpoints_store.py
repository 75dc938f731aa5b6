"""Endpoints table: the delivery side's operational state, one item type per key prefix.

- The circuit breaker of each (tenant, subscriber origin) that timed out recently: an item exists only for an
  endpoint that was slow: `strikes` counts its slow attempts since `windowStart`, `openUntil` (epoch seconds) is
  set once the breaker has tripped. Healthy endpoints cost no write; the item expires (TTL) a day after its last
  change.
- `health#<owner>#<subscriptionId>`: a subscription whose attempts have all failed since `failingSince`. Written
  when that starts (its first failure after a success) and deleted at its next success or when it is disabled:
  a healthy subscription has no item and a failing one one write, so delivering costs no health write.
- `recovery#<tenantId>#<recoveryId>`: one recovery (re-sending a subscription's failed deliveries since a time),
  its bounds and progress, until its TTL.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from hub.delivery.models import CLOSED, Breaker, Recovery
from hub.platform import catalog, ddb

TABLE = catalog.ENDPOINTS
KEEP_S = 24 * 3600


def _key(endpoint: str) -> dict:
    return ddb.to_item({"endpointKey": endpoint})


def get(endpoint: str) -> Breaker:
    item = ddb.client().get_item(TableName=ddb.name(TABLE), Key=_key(endpoint)).get("Item")
    if not item:
        return CLOSED
    values = ddb.from_item(item)
    return Breaker(values.get("strikes", 0), values.get("windowStart", 0), values.get("openUntil"))


def _conditional(**request) -> dict | None:
    """update_item's new image, or None when its condition failed."""
    try:
        return ddb.client().update_item(TableName=ddb.name(TABLE), ReturnValues="ALL_NEW", **request)["Attributes"]
    except ClientError as error:
        if ddb.is_conditional_failure(error):
            return None
        raise


def record_strike(endpoint: str, now: int, window_s: int, trip_after: int, open_s: int) -> Breaker:
    """Counts one slow attempt (a new window when the last began over `window_s` ago) and trips the
    breaker, open for `open_s`, once the window holds `trip_after` of them."""
    counted = None
    for _ in range(3):  # a concurrent worker may start the window between the two writes
        counted = _conditional(
            Key=_key(endpoint),
            UpdateExpression="ADD strikes :one SET expiresAt = :expires",
            ConditionExpression="windowStart >= :cutoff",
            ExpressionAttributeValues=ddb.values(one=1, expires=now + KEEP_S, cutoff=now - window_s),
        ) or _conditional(
            Key=_key(endpoint),
            UpdateExpression="SET strikes = :one, windowStart = :now, expiresAt = :expires",
            ConditionExpression="attribute_not_exists(windowStart) OR windowStart < :cutoff",
            ExpressionAttributeValues=ddb.values(one=1, now=now, expires=now + KEEP_S, cutoff=now - window_s),
        )
        if counted is not None:
            break
    if counted is None:
        return get(endpoint)
    values = ddb.from_item(counted)
    breaker = Breaker(values["strikes"], values["windowStart"], values.get("openUntil"))
    if breaker.strikes >= trip_after and (breaker.open_until is None or breaker.open_until <= now):
        return reopen(endpoint, breaker, now + open_s) or get(endpoint)
    return breaker


def reopen(endpoint: str, seen: Breaker, open_until: int) -> Breaker | None:
    """Sets `openUntil` if it is still what `seen` read (one worker wins a half-open probe); else None."""
    condition = "attribute_not_exists(openUntil)" if seen.open_until is None else "openUntil = :seen"
    named = {"until": open_until, "expires": open_until + KEEP_S}
    if seen.open_until is not None:
        named["seen"] = seen.open_until
    updated = _conditional(
        Key=_key(endpoint),
        UpdateExpression="SET openUntil = :until, expiresAt = :expires",
        ConditionExpression=condition,
        ExpressionAttributeValues=ddb.values(**named),
    )
    if updated is None:
        return None
    values = ddb.from_item(updated)
    return Breaker(values.get("strikes", 0), values.get("windowStart", 0), values.get("openUntil"))


def close(endpoint: str) -> None:
    ddb.client().delete_item(TableName=ddb.name(TABLE), Key=_key(endpoint))


def failing_since(key: str) -> str | None:
    """When the subscription's failures began, or None while it is healthy (an eventually consistent read)."""
    item = ddb.client().get_item(TableName=ddb.name(TABLE), Key=_key(key)).get("Item")
    return ddb.from_item(item).get("failingSince") if item else None


def start_failing(key: str, at: str, expires_at: int) -> str:
    """Records that the subscription started failing at `at`, unless already recorded; returns the recorded time."""
    try:
        ddb.client().put_item(
            TableName=ddb.name(TABLE),
            Item=ddb.to_item({"endpointKey": key, "failingSince": at, "expiresAt": expires_at}),
            ConditionExpression="attribute_not_exists(endpointKey)",
        )
    except ClientError as error:
        if not ddb.is_conditional_failure(error):
            raise
        return failing_since(key) or at
    return at


def recovered(key: str) -> None:
    """Forgets the subscription's failures (a success, a disabling, a re-enabling)."""
    ddb.client().delete_item(TableName=ddb.name(TABLE), Key=_key(key))


def _recovery_key(tenant_id: str, recovery_id: str) -> str:
    return f"recovery#{tenant_id}#{recovery_id}"


def put_recovery(recovery: Recovery) -> None:
    ddb.client().put_item(
        TableName=ddb.name(TABLE),
        Item=ddb.to_item(
            {
                "endpointKey": _recovery_key(recovery.tenantId, recovery.recoveryId),
                **recovery.model_dump(exclude_none=True),
            }
        ),
    )


def get_recovery(tenant_id: str, recovery_id: str) -> Recovery | None:
    item = (
        ddb.client()
        .get_item(TableName=ddb.name(TABLE), Key=_key(_recovery_key(tenant_id, recovery_id)), ConsistentRead=True)
        .get("Item")
    )
    if not item:
        return None
    values = ddb.from_item(item)
    values.pop("endpointKey", None)
    return Recovery.model_validate(values)
