"""Tenants table: tenant records (pk TENANT) and API-key lookups (pk KEY#<hash>)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from hub.platform import catalog, ddb
from hub.platform.exceptions import AlreadyExists, Busy
from hub.tenants.models import Tenant

TABLE = catalog.TENANTS
TENANT_PK = "TENANT"


def _key_pk(key_hash: str) -> str:
    return f"KEY#{key_hash}"


def create(tenant: Tenant, key_hash: str) -> None:
    """Writes the tenant and its key lookup together; AlreadyExists when the key (or the id) is taken, Busy when
    a concurrent transaction got in the way."""
    record = tenant.model_dump(exclude_none=True)
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
    return Tenant.model_validate(record) if record else None


def is_active(tenant_id: str) -> bool:
    """True for a tenant that exists and is not revoked (an eventually consistent read: one per gateway event)."""
    record = _record(tenant_id, consistent=False)
    return record is not None and not record.get("revokedAt")


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
    return [Tenant.model_validate(ddb.from_item(item)) for page in pages for item in page["Items"]]


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
                {
                    "Delete": {
                        "TableName": ddb.name(TABLE),
                        "Key": ddb.to_item({"pk": _key_pk(record["keyHash"]), "sk": "KEY"}),
                    }
                },
            ]
        )
        record["revokedAt"] = revoked_at
    return Tenant.model_validate(record)


def forget(tenant_id: str) -> None:
    """Removes a revoked tenant's record once nothing of it is left (and undoes a failed creation)."""
    record = _record(tenant_id)
    if record is None:
        return
    ddb.client().transact_write_items(
        TransactItems=[
            {"Delete": {"TableName": ddb.name(TABLE), "Key": ddb.to_item({"pk": TENANT_PK, "sk": tenant_id})}},
            {
                "Delete": {
                    "TableName": ddb.name(TABLE),
                    "Key": ddb.to_item({"pk": _key_pk(record["keyHash"]), "sk": "KEY"}),
                }
            },
        ]
    )
