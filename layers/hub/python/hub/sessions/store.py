"""Sessions table: one item per session with its owner, state, inbound secret and subscriptions.

A session is keyed by its tenant and its own id (`sessionKey` = `<tenantId>#<sessionId>`). Its gateway reaches it
through its receiver handle: an opaque, globally unique id in the receiver URL, resolved through a lookup item in
the Tenants table (`RCV#<handle>`), written and deleted with the session in one transaction. A session copied from
the tables of a release whose session ids were global has its old id as its handle, so URLs issued then keep
working (docs/migration.md).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from hub.delivery.subscriptions import Subscription
from hub.ingest import state
from hub.ingest.state import SessionState
from hub.platform import catalog, ddb
from hub.platform.exceptions import AlreadyExists, ChangedMeanwhile
from hub.sessions.models import ID_PATTERN, HandleTarget, SessionRecord, SubscriptionSecrets

TABLE = catalog.SESSIONS
LOOKUPS = catalog.TENANTS
HANDLE_SK = "RCV"


def session_key(tenant_id: str, session_id: str) -> str:
    """The table key of a tenant's session (tenant ids and session ids hold no `#`)."""
    return f"{tenant_id}#{session_id}"


def _key(tenant_id: str, session_id: str) -> dict[str, Any]:
    return ddb.to_item({"sessionKey": session_key(tenant_id, session_id)})


def _handle_key(handle: str) -> dict[str, str]:
    return {"pk": f"RCV#{handle}", "sk": HANDLE_SK}


class HandleTaken(AlreadyExists):
    """The receiver handle is taken (a generated one: draw another)."""


def list_key(bucket: str, status: str, session_id: str) -> str:
    """The session's sort key in its tenant's list index (catalog.SESSIONS_LIST): by bucket, status, id."""
    return f"{bucket}#{status}#{session_id}"


def _index_keys(record: SessionRecord) -> dict[str, str]:
    return {
        "ownerKey": f"{record.tenantId}#{record.userId}",
        "listKey": list_key(record.bucket, record.status, record.sessionId),
    }


def to_item(record: SessionRecord) -> dict[str, Any]:
    values = record.model_dump(exclude={"state", "subscriptions"}, exclude_none=True)
    values["state"] = state_json(record.state)
    values["subscriptions"] = [s.model_dump(exclude_none=True, exclude_defaults=True) for s in record.subscriptions]
    values.update(_index_keys(record))
    values["sessionKey"] = session_key(record.tenantId, record.sessionId)
    return ddb.to_item(values)


def _from_item(item: dict[str, Any]) -> SessionRecord:
    return from_values(ddb.from_item(item))


SAME_AS_BASE = "="
"""Stored in place of an order key equal to the state's `base_key` (they mostly are): the item stays under 1 KB."""
SHARED_KEYS = ("cycle_key", "last_key")


def state_json(session_state: SessionState) -> str:
    """The state as the item stores it: its non-default fields, order keys equal to `base_key` abbreviated."""
    values = session_state.model_dump(mode="json", exclude_defaults=True)
    for name in SHARED_KEYS:
        if name in values and values[name] == values.get("base_key"):
            values[name] = SAME_AS_BASE
    return json.dumps(values, separators=(",", ":"))


def _state_of(text: str | None) -> SessionState:
    values = json.loads(text or "{}")
    for name in SHARED_KEYS:
        if values.get(name) == SAME_AS_BASE:
            values[name] = values["base_key"]
    return SessionState.model_validate(values)


def from_values(values: dict[str, Any]) -> SessionRecord:
    """A record from an item's plain values (a stream image, or a deserialized item)."""
    return SessionRecord.model_validate({**values, "state": _state_of(values.get("state"))})


def get(tenant_id: str, session_id: str) -> SessionRecord | None:
    """The tenant's session, or None; an id no session can have (ID_PATTERN) is not looked up (a gateway may send
    any string, and DynamoDB refuses keys over 2048 bytes)."""
    if not re.fullmatch(ID_PATTERN, session_id):
        return None
    item = (
        ddb.client()
        .get_item(TableName=ddb.name(TABLE), Key=_key(tenant_id, session_id), ConsistentRead=True)
        .get("Item")
    )
    return _from_item(item) if item else None


def resolve_handle(handle: str) -> HandleTarget | None:
    """The tenant and session a receiver handle names, or None (a handle is never reused, so the answer may be
    cached; the session itself must still be read, and carry this handle)."""
    if not re.fullmatch(ID_PATTERN, handle):
        return None
    item = (
        ddb.client()
        .get_item(TableName=ddb.name(LOOKUPS), Key=ddb.to_item(_handle_key(handle)), ConsistentRead=True)
        .get("Item")
    )
    if not item:
        return None
    values = ddb.from_item(item)
    return HandleTarget(tenantId=values["tenantId"], sessionId=values["sessionId"])


def subscription_secrets(tenant_id: str, session_id: str) -> SubscriptionSecrets | None:
    """The session's subscription secrets (a projection of its item: not its state), or None when it is gone."""
    if not re.fullmatch(ID_PATTERN, session_id):
        return None
    item = (
        ddb.client()
        .get_item(
            TableName=ddb.name(TABLE),
            Key=_key(tenant_id, session_id),
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


def _handle_put(record: SessionRecord) -> dict[str, Any]:
    values = {"tenantId": record.tenantId, "sessionId": record.sessionId}
    return ddb.put_new(LOOKUPS, {**_handle_key(record.receiverHandle), **values})


def _handle_delete(record: SessionRecord) -> dict[str, Any]:
    """Deletes the handle's lookup if it still names this session."""
    return {
        "Delete": {
            "TableName": ddb.name(LOOKUPS),
            "Key": ddb.to_item(_handle_key(record.receiverHandle)),
            "ConditionExpression": "attribute_not_exists(pk) OR (tenantId = :tenant AND sessionId = :session)",
            "ExpressionAttributeValues": ddb.values(tenant=record.tenantId, session=record.sessionId),
        }
    }


def create(record: SessionRecord) -> None:
    """Stores a new session and its handle's lookup together: AlreadyExists when the tenant has a session of that
    id, HandleTaken when the handle is taken."""
    try:
        ddb.client().transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": ddb.name(TABLE),
                        "Item": to_item(record),
                        "ConditionExpression": "attribute_not_exists(sessionKey)",
                    }
                },
                _handle_put(record),
            ]
        )
    except ClientError as error:
        codes = ddb.cancellation_codes(error)
        if codes[:1] == ["ConditionalCheckFailed"]:
            raise AlreadyExists(f"Session {record.sessionId!r} already exists") from error
        if codes[1:2] == ["ConditionalCheckFailed"]:
            raise HandleTaken(f"Receiver handle {record.receiverHandle!r} is taken") from error
        raise


def legacy_items(table_name: str) -> Iterator[dict[str, Any]]:
    """The items (plain values) of a Sessions table of a release whose session ids were global."""
    for page in ddb.client().get_paginator("scan").paginate(TableName=table_name, ConsistentRead=True):
        for item in page["Items"]:
            yield ddb.from_item(item)


def import_legacy(values: dict[str, Any]) -> bool:
    """Stores a session of a release whose session ids were global, with its old id as its receiver handle (so
    its receiver URL keeps working); False when it is here already (a copy run again)."""
    record = from_values({**values, "receiverHandle": values.get("receiverHandle") or values["sessionId"]})
    try:
        create(record)
    except AlreadyExists:
        return False
    return True


def delete(record: SessionRecord) -> None:
    """Deletes the session and its handle's lookup; ChangedMeanwhile when the session changed since `record` was
    read."""
    try:
        ddb.client().transact_write_items(
            TransactItems=[
                {
                    "Delete": {
                        "TableName": ddb.name(TABLE),
                        "Key": _key(record.tenantId, record.sessionId),
                        "ConditionExpression": "version = :version",
                        "ExpressionAttributeValues": ddb.values(version=record.version),
                    }
                },
                _handle_delete(record),
            ]
        )
    except ClientError as error:
        if ddb.cancellation_codes(error)[:1] == ["ConditionalCheckFailed"]:
            raise ChangedMeanwhile("Session changed while being deleted; retry") from error
        raise


def remove(record: SessionRecord) -> None:
    """Deletes the session whatever its version, and its handle's lookup (a revoked tenant's purge)."""
    ddb.client().transact_write_items(
        TransactItems=[
            {"Delete": {"TableName": ddb.name(TABLE), "Key": _key(record.tenantId, record.sessionId)}},
            _handle_delete(record),
        ]
    )


def save_state(before: SessionRecord, after: SessionRecord) -> bool:
    """Stores `after`'s state; False when somebody changed the session since `before` was read.

    The list index key is written only when it changes, so an event that leaves the status and bucket as they
    were (loading progress, a repeated status) touches no index entry, and a change moves one entry."""
    before_keys, after_keys = _index_keys(before), _index_keys(after)
    fields = {
        "state": state_json(after.state),
        "status": after.status,
        "bucket": after.bucket,
        "updatedAt": after.updatedAt,
        "lastEventAt": after.lastEventAt,
        **{k: after_keys[k] for k in ("listKey",) if after_keys[k] != before_keys[k]},
    }
    assignments = ", ".join(f"#{k} = :{k}" for k in fields)
    try:
        ddb.client().update_item(
            TableName=ddb.name(TABLE),
            Key=_key(after.tenantId, after.sessionId),
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


def rotate_inbound_secret(record: SessionRecord, secret: str, previous_expires_at: int) -> None:
    """Makes `secret` the session's inbound secret, the current one accepted until `previous_expires_at`;
    ChangedMeanwhile when the secret was rotated (or the session deleted) since `record` was read."""
    with ddb.condition_failure_raises(ChangedMeanwhile("The inbound secret changed meanwhile; retry")):
        ddb.client().update_item(
            TableName=ddb.name(TABLE),
            Key=_key(record.tenantId, record.sessionId),
            UpdateExpression="SET inboundSecret = :new, previousInboundSecret = :current, "
            "previousInboundSecretExpiresAt = :expires",
            ConditionExpression="inboundSecret = :current",
            ExpressionAttributeValues=ddb.values(new=secret, current=record.inboundSecret, expires=previous_expires_at),
        )


def revoke_links(tenant_id: str, session_id: str, at_ms: int) -> None:
    """Refuses the session's connect links issued up to `at_ms`; ChangedMeanwhile when the session is gone."""
    with ddb.condition_failure_raises(ChangedMeanwhile("Session was deleted meanwhile")):
        ddb.client().update_item(
            TableName=ddb.name(TABLE),
            Key=_key(tenant_id, session_id),
            UpdateExpression="SET linksRevokedAt = :at",
            ConditionExpression="attribute_exists(sessionKey)",
            ExpressionAttributeValues=ddb.values(at=at_ms),
        )


def save_subscriptions(record: SessionRecord, subscriptions: list[Subscription]) -> None:
    """Replaces the session's subscriptions; ChangedMeanwhile when they (not its state) changed meanwhile.

    Subscriptions carry their own version, so a session busy with status events can still be reconfigured.
    """
    with ddb.condition_failure_raises(ChangedMeanwhile("Subscriptions changed meanwhile; retry")):
        ddb.client().update_item(
            TableName=ddb.name(TABLE),
            Key=_key(record.tenantId, record.sessionId),
            UpdateExpression="SET subscriptions = :subs, subscriptionsVersion = :next",
            ConditionExpression="attribute_exists(sessionKey) AND "
            "(attribute_not_exists(subscriptionsVersion) OR subscriptionsVersion = :current)",
            ExpressionAttributeValues=ddb.values(
                subs=[s.model_dump(exclude_none=True, exclude_defaults=True) for s in subscriptions],
                current=record.subscriptionsVersion,
                next=record.subscriptionsVersion + 1,
            ),
        )


def add_list_keys(until: float) -> tuple[int, bool]:
    """Gives each session an earlier release stored its `listKey` (and drops its statusKey and bucketKey), until
    `until` (monotonic); returns (sessions updated, complete). A migration step (docs/migration.md): a session
    that changes status meanwhile gets its key from that change, which this never overwrites."""
    params: dict[str, Any] = {
        "TableName": ddb.name(TABLE),
        "FilterExpression": "attribute_not_exists(listKey)",
        "ProjectionExpression": "sessionKey, sessionId, #status, #bucket",
        "ExpressionAttributeNames": {"#status": "status", "#bucket": "bucket"},
    }
    updated = 0
    while time.monotonic() < until:
        page = ddb.client().scan(**params)
        for values in map(ddb.from_item, page["Items"]):
            try:
                ddb.client().update_item(
                    TableName=ddb.name(TABLE),
                    Key=ddb.to_item({"sessionKey": values["sessionKey"]}),
                    UpdateExpression="SET listKey = :key REMOVE statusKey, bucketKey",
                    ConditionExpression="attribute_exists(sessionKey) AND attribute_not_exists(listKey)",
                    ExpressionAttributeValues=ddb.values(
                        key=list_key(values["bucket"], values["status"], values["sessionId"])
                    ),
                )
                updated += 1
            except ClientError as error:
                if not ddb.is_conditional_failure(error):
                    raise
        if "LastEvaluatedKey" not in page:
            return updated, True
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return updated, False


def _prefixes(status: str | None) -> list[str]:
    """The list-index key prefixes a status filter reads: all, a bucket, or a status in each bucket it can be in."""
    if status is None:
        return [""]
    if status in state.BUCKETS:
        return [f"{status}#"]
    buckets = dict.fromkeys(state.bucket_of(state.SessionStatus(status), needs_qr) for needs_qr in (False, True))
    return [f"{bucket}#{status}#" for bucket in buckets]


RANGE = "range"
"""The cursor's part that says which of a listing's key ranges (`_prefixes`) it stopped in."""


def query_page(
    tenant_id: str,
    *,
    user_id: str | None,
    status: str | None,
    limit: int,
    cursor: dict[str, Any] | None,
) -> tuple[list[SessionRecord], dict[str, Any] | None]:
    """One page of the tenant's sessions: at most `limit` keys from an index (keys only), completed from the table
    with one BatchGetItem; never a scan.

    The tenant's list index answers the plain list and the status and bucket filters (one begins_with range, or
    one per bucket a status can count in, read one after the other). With `user_id`, the owner index is read and
    its page filtered by status (as a FilterExpression would: after the limit, so a page may hold fewer).
    """
    if user_id is not None:
        params = _params("ownerKey = :pk", tenant_id, limit, cursor, pk=f"{tenant_id}#{user_id}")
        response = _query(catalog.SESSIONS_BY_OWNER, params, cursor)
        records = _complete(response["Items"])
        if status is not None:
            records = [r for r in records if (r.bucket if status in state.BUCKETS else r.status) == status]
        return records, response.get("LastEvaluatedKey")
    prefixes = _prefixes(status)
    start = dict(cursor or {})
    value = ddb.from_item({RANGE: start.pop(RANGE)})[RANGE] if RANGE in start else 0
    if isinstance(value, str) or value not in range(len(prefixes)):
        raise ddb.invalid_cursor()
    position = int(value)
    entries: list[dict[str, Any]] = []
    last: dict[str, Any] | None = start or None
    while position < len(prefixes) and len(entries) < limit:
        condition = "tenantId = :pk" + (" AND begins_with(listKey, :prefix)" if prefixes[position] else "")
        values = {"prefix": prefixes[position]} if prefixes[position] else {}
        params = _params(condition, tenant_id, limit - len(entries), last, pk=tenant_id, **values)
        try:
            response = _query(catalog.SESSIONS_LIST, params, last)
        except IndexUnavailable:
            return _fallback_page(tenant_id, status, limit, cursor)
        entries += response["Items"]
        last = response.get("LastEvaluatedKey")
        if last is None:
            position += 1
    records = _complete(entries)
    if position >= len(prefixes):
        return records, None
    return records, {**(last or {}), RANGE: ddb.to_value(position)}


class IndexUnavailable(Exception):
    """The list index is missing or backfilling (a migration's step)."""


def _params(condition: str, tenant_id: str, limit: int, start: dict[str, Any] | None, **values: str) -> dict[str, Any]:
    params: dict[str, Any] = {
        "TableName": ddb.name(TABLE),
        "Limit": limit,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": ddb.values(**values),
    }
    if start:
        params["ExclusiveStartKey"] = start
    return params


def _query(index: catalog.Index, params: dict[str, Any], cursor: dict[str, Any] | None) -> dict[str, Any]:
    try:
        return ddb.query_index(index, params)
    except ClientError as error:
        if index.fallback and ddb.index_unavailable(error):
            raise IndexUnavailable(index.name) from error
        if cursor and ddb.error_code(error) == "ValidationException":
            raise ddb.invalid_cursor() from error
        raise


def _complete(entries: list[dict[str, Any]]) -> list[SessionRecord]:
    return [_from_item(item) for item in ddb.get_many(TABLE, [ddb.key_of(TABLE, e) for e in entries])]


def _fallback_page(
    tenant_id: str, status: str | None, limit: int, cursor: dict[str, Any] | None
) -> tuple[list[SessionRecord], dict[str, Any] | None]:
    """A page through the retired tenant index (docs/migration.md), filtered after the limit; its cursors are
    not the list index's (a listing crossing the switch starts again)."""
    params = _params("tenantId = :pk", tenant_id, limit, cursor, pk=tenant_id)
    try:
        response = ddb.client().query(IndexName=catalog.SESSIONS_LIST.fallback, **params)
    except ClientError as error:
        if cursor and ddb.error_code(error) == "ValidationException":
            raise ddb.invalid_cursor() from error
        raise
    records = [_from_item(item) for item in response["Items"]]  # an ALL-projection index: whole items
    if status is not None:
        records = [r for r in records if status in (r.bucket, r.status)]
    return records, response.get("LastEvaluatedKey")
