"""Tenants table: tenant records (pk TENANT) and API-key lookups (pk KEY#<hash>)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from hub import catalog
from hub.store import ddb

TABLE = catalog.TENANTS
TENANT_PK = "TENANT"


class Tenant(BaseModel):
    tenantId: str
    name: str
    plan: str
    createdAt: str
    apiGatewayKeyId: str | None = None


def _key_pk(key_hash: str) -> str:
    return f"KEY#{key_hash}"


def create(tenant: Tenant, key_hash: str) -> None:
    """Writes the tenant and its key lookup together."""
    record = tenant.model_dump(exclude_none=True)
    ddb.client().transact_write_items(
        TransactItems=[
            {"Put": {
                "TableName": ddb.name(TABLE),
                "Item": ddb.to_item({"pk": TENANT_PK, "sk": tenant.tenantId, "keyHash": key_hash, **record}),
                "ConditionExpression": "attribute_not_exists(pk)",
            }},
            {"Put": {
                "TableName": ddb.name(TABLE),
                "Item": ddb.to_item({"pk": _key_pk(key_hash), "sk": "KEY", "tenantId": tenant.tenantId}),
                "ConditionExpression": "attribute_not_exists(pk)",
            }},
        ]
    )


def tenant_id_for_key(key_hash: str) -> str | None:
    item = ddb.client().get_item(
        TableName=ddb.name(TABLE),
        Key=ddb.to_item({"pk": _key_pk(key_hash), "sk": "KEY"}),
        ConsistentRead=True,
    ).get("Item")
    return ddb.from_item(item)["tenantId"] if item else None


def _record(tenant_id: str) -> dict[str, Any] | None:
    item = ddb.client().get_item(
        TableName=ddb.name(TABLE), Key=ddb.to_item({"pk": TENANT_PK, "sk": tenant_id}), ConsistentRead=True
    ).get("Item")
    return ddb.from_item(item) if item else None


def exists(tenant_id: str) -> bool:
    """False once the tenant is revoked."""
    return _record(tenant_id) is not None


def list_all() -> list[Tenant]:
    pages = ddb.client().get_paginator("query").paginate(
        TableName=ddb.name(TABLE),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=ddb.values(pk=TENANT_PK),
    )
    return [Tenant.model_validate(ddb.from_item(item)) for page in pages for item in page["Items"]]


def delete(tenant_id: str) -> Tenant | None:
    """Removes the tenant and its key lookup; the key stops working at once."""
    record = _record(tenant_id)
    if record is None:
        return None
    ddb.client().transact_write_items(
        TransactItems=[
            {"Delete": {"TableName": ddb.name(TABLE), "Key": ddb.to_item({"pk": TENANT_PK, "sk": tenant_id})}},
            {"Delete": {"TableName": ddb.name(TABLE), "Key": ddb.to_item({"pk": _key_pk(record["keyHash"]), "sk": "KEY"})}},
        ]
    )
    return Tenant.model_validate(record)
