"""Tenants: creation with a one-time API key, listing, revocation.

In the cloud each tenant key is also an API Gateway key in its plan's usage plan
(throttle and quota); the stack passes USAGE_PLAN_IDS, and without it tenants are refused
(their keys would never pass the gateway). Locally (HUB_LOCAL) there is no API Gateway,
and keys are checked only by the hub.

Order of writes, so that no failure leaves a key the gateway accepts without a tenant row:
creation makes the gateway key disabled, stores the tenant, then enables the key (undoing
both on failure); revocation deletes the gateway key first, then the key lookup, then purges
the tenant's data (hub.sessions.purging) and finally its record.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.platform import security, settings
from hub.platform.clock import iso
from hub.platform.exceptions import AlreadyExists, Conflict, Invalid, NotConfigured
from hub.sessions import purging
from hub.tenants import api_keys_store as api_keys
from hub.tenants import gateway_credentials
from hub.tenants import store as tenant_store
from hub.tenants.models import Tenant

DEFAULT_PLAN = "default"


class CreateTenant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    plan: str = Field(default=DEFAULT_PLAN, min_length=1, max_length=64)
    apiKey: str | None = Field(default=None, min_length=20, max_length=128, description="Local hub only: use this key")


def _usage_plans() -> dict[str, str]:
    return json.loads(settings.env("USAGE_PLAN_IDS") or "{}")


def _not_configured() -> NotConfigured:
    return NotConfigured(
        "USAGE_PLAN_IDS is not set: tenant keys could not pass API Gateway, so no tenant is created "
        "(the stack sets it on the admin function; HUB_LOCAL=true runs without API Gateway)",
    )


def create(request: CreateTenant) -> dict[str, Any]:
    plans = _usage_plans()
    local = settings.load().local
    if not plans and not local:
        raise _not_configured()
    if plans and request.plan not in plans:
        raise Invalid.field("plan", f"one of {sorted(plans)}", f"Unknown plan {request.plan!r}")
    if request.apiKey and not local:
        raise Invalid.field("apiKey", "not allowed", "apiKey may be chosen only on the local hub")
    api_key = request.apiKey or security.new_api_key()
    tenant_id = "ten_" + secrets.token_hex(8)
    key_id = api_keys.create_disabled(tenant_id, api_key, plans[request.plan]) if plans else None
    tenant = Tenant(
        tenantId=tenant_id,
        name=request.name,
        plan=request.plan,
        createdAt=iso(datetime.now(UTC)),
        apiGatewayKeyId=key_id,
    )
    try:
        tenant_store.create(tenant, security.hash_key(api_key))
    except Exception as error:
        if key_id:
            api_keys.discard(key_id)
        if isinstance(error, AlreadyExists):
            raise Conflict(error.message) from error
        raise
    if key_id:
        try:
            api_keys.enable(key_id)
        except Exception:
            tenant_store.forget(tenant_id)
            api_keys.discard(key_id)
            raise
    return {**tenant.model_dump(exclude={"apiGatewayKeyId", "revokedAt"}), "apiKey": api_key}


def list_tenants() -> list[dict[str, Any]]:
    return [t.model_dump(exclude={"apiGatewayKeyId"}, exclude_none=True) for t in tenant_store.list_all()]


def revoke(tenant_id: str) -> dict[str, Any] | None:
    """Revokes the tenant and purges its data within one request's budget; None when unknown.

    Repeating the call carries on with the purge; once nothing is left the tenant is forgotten
    (a later call answers 404).
    """
    tenant = tenant_store.get(tenant_id)
    if tenant is None:
        return None
    if tenant.apiGatewayKeyId and not tenant.revokedAt:
        api_keys.delete(tenant.apiGatewayKeyId)
    tenant = tenant_store.mark_revoked(tenant_id, iso(datetime.now(UTC))) or tenant
    gateway_credentials.revoke_all(tenant_id)
    purged = purging.purge_tenant(tenant_id, purging.deadline())
    if purged.complete:
        tenant_store.forget(tenant_id)
    return {"tenantId": tenant_id, "revoked": True, "revokedAt": tenant.revokedAt, **purged.public()}
