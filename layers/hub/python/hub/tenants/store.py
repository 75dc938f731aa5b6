"""Tenants table: tenant records (pk TENANT) and API-key lookups (pk KEY#<hash>)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from hub.delivery.subscriptions import Subscription
from hub.platform import catalog, ddb
from hub.platform.exceptions import AlreadyExists, Busy, ChangedMeanwhile
from hub.tenants.models import CredentialLookup, GatewayCredential, Standing, Tenant, TenantKey, key_id_of

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


def _items_of(pk: str) -> list[dict[str, Any]]:
    """Every item of one partition (plain values), strongly consistent."""
    pages = (
        ddb.client()
        .get_paginator("query")
        .paginate(
            TableName=ddb.name(TABLE),
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=ddb.values(pk=pk),
            ConsistentRead=True,
        )
    )
    return [ddb.from_item(item) for page in pages for item in page["Items"]]


def list_all() -> list[Tenant]:
    return [_tenant(values) for values in _items_of(TENANT_PK)]


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


# -- gateway credentials: a secret that authenticates every session of its tenant on one gateway ----------------
# A record per credential (pk GWCS#<tenantId>, sk <credentialId>) and a lookup per accepted key hash
# (pk GWC#<hash>, sk GWC); a rotated-out key's lookup carries `expiresAt` (epoch s; the table's TTL attribute):
# read past it, it is refused.

MAX_GATEWAY_CREDENTIALS = 25
"""Credentials one tenant may hold."""


def _credentials_pk(tenant_id: str) -> str:
    return f"GWCS#{tenant_id}"


def _lookup_key(key_hash: str) -> dict[str, Any]:
    return ddb.to_item({"pk": f"GWC#{key_hash}", "sk": "GWC"})


def _lookup_put(credential: GatewayCredential, key_hash: str) -> dict[str, Any]:
    values = {"tenantId": credential.tenantId, "credentialId": credential.credentialId}
    return ddb.put_new(TABLE, {"pk": f"GWC#{key_hash}", "sk": "GWC", **values})


def _lookup_delete(key_hash: str) -> dict[str, Any]:
    return {"Delete": {"TableName": ddb.name(TABLE), "Key": _lookup_key(key_hash)}}


def _credential_put(credential: GatewayCredential, condition: str, **values: Any) -> dict[str, Any]:
    put: dict[str, Any] = {
        "TableName": ddb.name(TABLE),
        "Item": ddb.to_item(
            {"pk": _credentials_pk(credential.tenantId), "sk": credential.credentialId, **credential.model_dump()}
        ),
        "ConditionExpression": condition,
    }
    if values:
        put["ExpressionAttributeValues"] = ddb.values(**values)
    return {"Put": put}


def _transact(items: list[dict[str, Any]], *, taken_at: int | None = None) -> None:
    """Writes `items` together: AlreadyExists when the lookup at `taken_at` exists, ChangedMeanwhile when any
    other condition failed."""
    try:
        ddb.client().transact_write_items(TransactItems=items)
    except ClientError as error:
        codes = ddb.cancellation_codes(error)
        if "ConditionalCheckFailed" not in codes:
            raise
        if taken_at is not None and codes[taken_at] == "ConditionalCheckFailed":
            raise AlreadyExists("That key is already registered as a gateway credential") from error
        raise ChangedMeanwhile("Gateway credential changed meanwhile; retry") from error


def create_credential(credential: GatewayCredential) -> None:
    """Stores the credential and its key's lookup; AlreadyExists when the key is already one."""
    _transact(
        [_credential_put(credential, "attribute_not_exists(pk)"), _lookup_put(credential, credential.keyHash)],
        taken_at=1,
    )


def credentials(tenant_id: str) -> list[GatewayCredential]:
    return [GatewayCredential.model_validate(values) for values in _items_of(_credentials_pk(tenant_id))]


def credential(tenant_id: str, credential_id: str) -> GatewayCredential | None:
    item = (
        ddb.client()
        .get_item(
            TableName=ddb.name(TABLE),
            Key=ddb.to_item({"pk": _credentials_pk(tenant_id), "sk": credential_id}),
            ConsistentRead=True,
        )
        .get("Item")
    )
    return GatewayCredential.model_validate(ddb.from_item(item)) if item else None


def delete_credential(credential: GatewayCredential) -> None:
    """Deletes the credential and every lookup of it; ChangedMeanwhile when it was rotated meanwhile."""
    items: list[dict[str, Any]] = [
        {
            "Delete": {
                "TableName": ddb.name(TABLE),
                "Key": ddb.to_item({"pk": _credentials_pk(credential.tenantId), "sk": credential.credentialId}),
                "ConditionExpression": "keyHash = :current",
                "ExpressionAttributeValues": ddb.values(current=credential.keyHash),
            }
        },
        _lookup_delete(credential.keyHash),
    ]
    if credential.previousKeyHash:
        items.append(_lookup_delete(credential.previousKeyHash))
    _transact(items)


def rotate_credential(before: GatewayCredential, after: GatewayCredential) -> None:
    """Stores `after` (a new key; the key of `before` accepted until `after.previousExpiresAt`): the new key's
    lookup, the old key's lookup given its expiry, and the key before that forgotten. AlreadyExists when the
    new key is already a credential, ChangedMeanwhile when `before` is no longer current."""
    assert after.previousKeyHash == before.keyHash and after.previousExpiresAt is not None
    items: list[dict[str, Any]] = [
        _credential_put(after, "keyHash = :current", current=before.keyHash),
        _lookup_put(after, after.keyHash),
        {
            "Update": {
                "TableName": ddb.name(TABLE),
                "Key": _lookup_key(before.keyHash),
                "UpdateExpression": "SET expiresAt = :expires",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": ddb.values(expires=after.previousExpiresAt),
            }
        },
    ]
    if before.previousKeyHash and before.previousKeyHash != after.keyHash:
        items.append(_lookup_delete(before.previousKeyHash))
    _transact(items, taken_at=1)


def credential_for_key(key_hash: str, now_epoch: int) -> CredentialLookup | None:
    """The credential a key is (its lookup), unless that key was rotated out and its overlap has ended."""
    item = ddb.client().get_item(TableName=ddb.name(TABLE), Key=_lookup_key(key_hash), ConsistentRead=True).get("Item")
    if not item:
        return None
    values = ddb.from_item(item)
    if values.get("expiresAt") is not None and values["expiresAt"] <= now_epoch:
        return None
    return CredentialLookup(tenantId=values["tenantId"], credentialId=values["credentialId"])
