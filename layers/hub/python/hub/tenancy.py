"""Tenants: creation with a one-time API key, listing, revocation.

In the cloud each tenant key is also an API Gateway key in its plan's usage plan
(throttle and quota); the stack passes USAGE_PLAN_IDS. Locally there is no API
Gateway, and keys are checked only by the hub.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from hub import errors, security, settings
from hub.clock import iso
from hub.store import ddb
from hub.store import tenants as tenant_store

DEFAULT_PLAN = "default"


class CreateTenant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    plan: str = Field(default=DEFAULT_PLAN, min_length=1, max_length=64)
    apiKey: str | None = Field(default=None, min_length=20, max_length=128, description="Local hub only: use this key")


def _usage_plans() -> dict[str, str]:
    return json.loads(settings.env("USAGE_PLAN_IDS") or "{}")


def _apigateway():
    import boto3

    return boto3.client("apigateway")


def _register_gateway_key(tenant_id: str, api_key: str, plan: str) -> str | None:
    plans = _usage_plans()
    if not plans:
        return None
    key_id = _apigateway().create_api_key(name=f"tenant-{tenant_id}", value=api_key, enabled=True)["id"]
    _apigateway().create_usage_plan_key(usagePlanId=plans[plan], keyId=key_id, keyType="API_KEY")
    return key_id


def create(request: CreateTenant) -> dict[str, Any]:
    plans = _usage_plans()
    if plans and request.plan not in plans:
        raise errors.validation_error(f"Unknown plan {request.plan!r}", [{"field": "plan", "message": f"one of {sorted(plans)}"}])
    if request.apiKey and not settings.load().local:
        raise errors.validation_error("apiKey may be chosen only on the local hub", [{"field": "apiKey", "message": "not allowed"}])
    api_key = request.apiKey or security.new_api_key()
    tenant_id = "ten_" + secrets.token_hex(8)
    tenant = tenant_store.Tenant(
        tenantId=tenant_id, name=request.name, plan=request.plan, createdAt=iso(datetime.now(timezone.utc)),
        apiGatewayKeyId=_register_gateway_key(tenant_id, api_key, request.plan),
    )
    try:
        tenant_store.create(tenant, security.hash_key(api_key))
    except ClientError as error:
        if ddb.cancellation_codes(error):
            raise errors.conflict("That API key is already in use") from error
        raise
    return {**tenant.model_dump(exclude={"apiGatewayKeyId"}), "apiKey": api_key}


def list_tenants() -> list[dict[str, Any]]:
    return [t.model_dump(exclude={"apiGatewayKeyId"}) for t in tenant_store.list_all()]


def revoke(tenant_id: str) -> bool:
    tenant = tenant_store.delete(tenant_id)
    if tenant is None:
        return False
    if tenant.apiGatewayKeyId:
        _apigateway().delete_api_key(apiKey=tenant.apiGatewayKeyId)
    return True
