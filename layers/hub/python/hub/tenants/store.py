"""Tenants table: tenant records (pk TENANT) and API-key lookups (pk KEY#<hash>)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from hub.delivery.subscriptions import Subscription
from hub.platform import catalog, ddb

TABLE = catalog.TENANTS
TENANT_PK = "TENANT"


MAX_KEYS = 2
"""Active API keys one tenant may hold: enough to switch to a new key, then revoke the old one."""


class TenantKey(BaseModel):
    """One of the tenant's API keys: never its value, only its hash and (in the cloud) its API Gateway key."""

    keyId: str
    keyHash: str
    apiGatewayKeyId: str | None = None
    createdAt: str


def key_id_of(key_hash: str) -> str:
    """A key's public id: a prefix of its hash (the key cannot be recovered from it)."""
    return "key_" + key_hash[:12]


class Tenant(BaseModel):
    tenantId: str
    name: str
    plan: str
    createdAt: str
    apiGatewayKeyId: str | None = None
    """The first key's API Gateway key (tenants created before several keys were possible hold only this)."""
    revokedAt: str | None = None
    """Set when the tenant is revoked: its key is gone, and its data is being purged (hub.sessions.purging)."""
    keys: list[TenantKey] = []
    keysVersion: int = 0


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
    """Writes the tenant and its (first) key lookup together; the record holds that key as `keyHash` and
    `apiGatewayKeyId` until a second key is added (then its `keys` list takes over)."""
    record = tenant.model_dump(exclude_none=True, exclude={"keys", "keysVersion"})
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


def add_key(tenant: Tenant, key: TenantKey) -> bool:
    """Adds an active key (its lookup and the tenant's list, together); False when the tenant's keys changed since
    `tenant` was read, or the key is taken."""
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
        if "ConditionalCheckFailed" in ddb.cancellation_codes(error):
            return False
        raise
    return True


def remove_key(tenant: Tenant, key: TenantKey) -> bool:
    """Revokes one key (its lookup goes: it stops authenticating at once); False when the keys changed meanwhile."""
    try:
        ddb.client().transact_write_items(
            TransactItems=[
                _set_keys(tenant, [k for k in tenant.keys if k.keyId != key.keyId]),
                *_key_lookups([key], "Delete"),
            ]
        )
    except ClientError as error:
        if "ConditionalCheckFailed" in ddb.cancellation_codes(error):
            return False
        raise
    return True


def is_active(tenant_id: str) -> bool:
    """True for a tenant that exists and is not revoked (an eventually consistent read)."""
    return standing(tenant_id).active


class Standing(BaseModel):
    """What the per-event path reads of a tenant, in one read: whether it is active and its tenant-wide
    subscriptions (they take every session's events)."""

    active: bool
    subscriptions: list[Subscription] = []
    subscriptionsVersion: int = 0


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


def save_subscriptions(tenant_id: str, subscriptions: list[Subscription], version: int) -> bool:
    """Replaces the tenant-wide subscriptions; False when they changed since `version` was read (or the tenant is
    gone or revoked)."""
    try:
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
    except ClientError as error:
        if ddb.is_conditional_failure(error):
            return False
        raise
    return True


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
