"""Tenants table: tenant records (pk TENANT) and API-key lookups (pk KEY#<hash>)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from hub.delivery.subscriptions import Subscription
from hub.platform import catalog, ddb
from hub.platform.exceptions import AlreadyExists, Busy, ChangedMeanwhile
from hub.tenants.models import Standing, Tenant, TenantKey, key_id_of

TABLE = catalog.TENANTS
TENANT_PK = "TENANT"


def _keys_of(record: dict[str, Any]) -> list[TenantKey]:
    """The tenant's active keys: its `keys` list, or the one key a record written before that list holds."""
    if "keys" in record:
        return [TenantKey.model_validate(k) for k in record["keys"]]
    return [
        TenantKey(
            keyId=key_id_of(record["keyHash"]),
            keyHash=record["keyHash"],
            apiGatewayKeyId=record.get("apiGatewayKeyId"),
            createdAt=record["createdAt"],
        )
    ]


def _tenant(record: dict[str, Any]) -> Tenant:
    return Tenant.model_validate({**record, "keys": [k.model_dump() for k in _keys_of(record)]})


def _key_pk(key_hash: str) -> str:
    return f"KEY#{key_hash}"


def create(tenant: Tenant, key_hash: str) -> None:
    """Writes the tenant and its (first) key lookup together; AlreadyExists when the key (or the id) is taken, Busy
    when a concurrent transaction got in the way. The record holds that key as `keyHash` and `apiGatewayKeyId`
    until a second key is added (then its `keys` list takes over)."""
    record = tenant.model_dump(exclude_none=True, exclude={"keys", "keysVersion"})
    try:
        _write_new(tenant, key_hash, record)
    except ClientError as error:
        reasons = ddb.cancellation_codes(error)
        if "ConditionalCheckFailed" in reasons:
            raise AlreadyExists("That API key is already in use") from error
        if reasons:
            raise Busy("The tenant was not stored (a concurrent transaction); retry") from error
        raise


def _write_new(tenant: Tenant, key_hash: str, record: dict[str, Any]) -> None:
    ddb.client().transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": ddb.name(TABLE),
                    "Item": ddb.to_item({"pk": TENANT_PK, "sk": tenant.tenantId, "keyHash": key_hash, **record}),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": ddb.name(TABLE),
                    "Item": ddb.to_item({"pk": _key_pk(key_hash), "sk": "KEY", "tenantId": tenant.tenantId}),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
    )


def tenant_id_for_key(key_hash: str) -> str | None:
    item = (
        ddb.client()
        .get_item(
            TableName=ddb.name(TABLE),
            Key=ddb.to_item({"pk": _key_pk(key_hash), "sk": "KEY"}),
            ConsistentRead=True,
        )
        .get("Item")
    )
    return ddb.from_item(item)["tenantId"] if item else None


def _record(tenant_id: str, consistent: bool = True) -> dict[str, Any] | None:
    item = (
        ddb.client()
        .get_item(
            TableName=ddb.name(TABLE), Key=ddb.to_item({"pk": TENANT_PK, "sk": tenant_id}), ConsistentRead=consistent
        )
        .get("Item")
    )
    return ddb.from_item(item) if item else None


def get(tenant_id: str) -> Tenant | None:
    record = _record(tenant_id)
    return _tenant(record) if record else None


def _key_lookups(keys: list[TenantKey], action: str) -> list[dict[str, Any]]:
    return [
        {action: {"TableName": ddb.name(TABLE), "Key": ddb.to_item({"pk": _key_pk(k.keyHash), "sk": "KEY"})}}
        for k in keys
    ]


def _set_keys(tenant: Tenant, keys: list[TenantKey]) -> dict[str, Any]:
    """The transaction item that stores `keys` on the tenant if its keys did not change since `tenant` was read."""
    return {
        "Update": {
            "TableName": ddb.name(TABLE),
            "Key": ddb.to_item({"pk": TENANT_PK, "sk": tenant.tenantId}),
            "UpdateExpression": "SET #keys = :keys, keysVersion = :next",
            "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(revokedAt) AND "
            "(attribute_not_exists(keysVersion) OR keysVersion = :current)",
            "ExpressionAttributeNames": {"#keys": "keys"},
            "ExpressionAttributeValues": ddb.values(
                keys=[k.model_dump(exclude_none=True) for k in keys],
                current=tenant.keysVersion,
                next=tenant.keysVersion + 1,
            ),
        }
    }


def _keys_changed(error: ClientError) -> None:
    reasons = ddb.cancellation_codes(error)
    if "ConditionalCheckFailed" in reasons:
        raise ChangedMeanwhile("The tenant's keys changed meanwhile; retry") from error
    if reasons:
        raise Busy("The tenant's keys were not changed (a concurrent transaction); retry") from error
    raise error


def add_key(tenant: Tenant, key: TenantKey) -> None:
    """Adds an active key (its lookup and the tenant's list, together); ChangedMeanwhile when the tenant's keys
    changed since `tenant` was read (or the key is taken), Busy when a concurrent transaction got in the way."""
    try:
        ddb.client().transact_write_items(
            TransactItems=[
                _set_keys(tenant, [*tenant.keys, key]),
                {
                    "Put": {
                        "TableName": ddb.name(TABLE),
                        "Item": ddb.to_item({"pk": _key_pk(key.keyHash), "sk": "KEY", "tenantId": tenant.tenantId}),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    except ClientError as error:
        _keys_changed(error)


def remove_key(tenant: Tenant, key: TenantKey) -> None:
    """Revokes one key (its lookup goes: it stops authenticating at once); ChangedMeanwhile when the keys changed
    meanwhile."""
    try:
        ddb.client().transact_write_items(
            TransactItems=[
                _set_keys(tenant, [k for k in tenant.keys if k.keyId != key.keyId]),
                *_key_lookups([key], "Delete"),
            ]
        )
    except ClientError as error:
        _keys_changed(error)


def is_active(tenant_id: str) -> bool:
    """True for a tenant that exists and is not revoked (an eventually consistent read)."""
    return standing(tenant_id).active


def standing(tenant_id: str, consistent: bool = False) -> Standing:
    """The tenant's standing (an eventually consistent read unless `consistent`); inactive when unknown."""
    record = _record(tenant_id, consistent=consistent)
    if record is None:
        return Standing(active=False)
    return Standing(
        active=not record.get("revokedAt"),
        subscriptions=[Subscription.model_validate(s) for s in record.get("subscriptions") or []],
        subscriptionsVersion=int(record.get("subscriptionsVersion") or 0),
    )


def save_subscriptions(tenant_id: str, subscriptions: list[Subscription], version: int) -> None:
    """Replaces the tenant-wide subscriptions; ChangedMeanwhile when they changed since `version` was read (or the
    tenant is gone or revoked)."""
    with ddb.condition_failure_raises(ChangedMeanwhile("Subscriptions changed meanwhile; retry")):
        ddb.client().update_item(
            TableName=ddb.name(TABLE),
            Key=ddb.to_item({"pk": TENANT_PK, "sk": tenant_id}),
            UpdateExpression="SET subscriptions = :subs, subscriptionsVersion = :next",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(revokedAt) AND "
            "(attribute_not_exists(subscriptionsVersion) OR subscriptionsVersion = :current)",
            ExpressionAttributeValues=ddb.values(
                subs=[s.model_dump(exclude_none=True) for s in subscriptions], current=version, next=version + 1
            ),
        )


def list_all() -> list[Tenant]:
    pages = (
        ddb.client()
        .get_paginator("query")
        .paginate(
            TableName=ddb.name(TABLE),
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=ddb.values(pk=TENANT_PK),
        )
    )
    return [_tenant(ddb.from_item(item)) for page in pages for item in page["Items"]]


def mark_revoked(tenant_id: str, revoked_at: str) -> Tenant | None:
    """Deletes the key lookup (the key stops working at once) and marks the tenant revoked; None when unknown.

    The tenant record stays, marked, until its data is purged (then `forget` removes it).
    """
    record = _record(tenant_id)
    if record is None:
        return None
    if not record.get("revokedAt"):
        ddb.client().transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": ddb.name(TABLE),
                        "Key": ddb.to_item({"pk": TENANT_PK, "sk": tenant_id}),
                        "UpdateExpression": "SET revokedAt = :at",
                        "ExpressionAttributeValues": ddb.values(at=revoked_at),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
                *_key_lookups(_keys_of(record), "Delete"),
            ]
        )
        record["revokedAt"] = revoked_at
    return _tenant(record)


def forget(tenant_id: str) -> None:
    """Removes a revoked tenant's record once nothing of it is left (and undoes a failed creation)."""
    record = _record(tenant_id)
    if record is None:
        return
    ddb.client().transact_write_items(
        TransactItems=[
            {"Delete": {"TableName": ddb.name(TABLE), "Key": ddb.to_item({"pk": TENANT_PK, "sk": tenant_id})}},
            *_key_lookups(_keys_of(record), "Delete"),
        ]
    )
