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
from hub.platform.exceptions import AlreadyExists, Conflict, Invalid, NotConfigured, NotFound, Unauthenticated
from hub.sessions import purging
from hub.tenants import api_keys_store as api_keys
from hub.tenants import gateway_credentials
from hub.tenants import store as tenant_store
from hub.tenants.models import MAX_KEYS, Tenant, TenantKey, key_id_of

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
    return {**tenant.model_dump(exclude={"apiGatewayKeyId", "revokedAt", "keys", "keysVersion"}), "apiKey": api_key}


def list_tenants() -> list[dict[str, Any]]:
    return [
        t.model_dump(exclude={"apiGatewayKeyId", "keys", "keysVersion"}, exclude_none=True)
        for t in tenant_store.list_all()
    ]


def _public_key(key: TenantKey, used: str | None) -> dict[str, Any]:
    return {"keyId": key.keyId, "createdAt": key.createdAt, "usedByThisRequest": key.keyHash == used}


def _active(tenant_id: str) -> Tenant:
    tenant = tenant_store.get(tenant_id)
    if tenant is None or tenant.revokedAt:
        raise Unauthenticated("Missing or invalid API key")
    return tenant


def list_keys(tenant_id: str, presented: str) -> list[dict[str, Any]]:
    """The tenant's active keys (never their values); `usedByThisRequest` marks the one the caller presented."""
    used = security.hash_key(presented)
    return [_public_key(k, used) for k in _active(tenant_id).keys]


def add_key(tenant_id: str) -> dict[str, Any]:
    """A second key for the tenant, shown in this answer only: switch to it, then revoke the first.

    In the cloud it is one more API Gateway key in the tenant's usage plan (created disabled, enabled once stored,
    as at tenant creation); the plan's throttle and quota are per key, so two keys double what the tenant may use.
    """
    tenant = _active(tenant_id)
    if len(tenant.keys) >= MAX_KEYS:
        raise Conflict(f"A tenant holds at most {MAX_KEYS} keys; revoke one first", code="LIMIT_REACHED")
    plans = _usage_plans()
    if not plans and not settings.load().local:
        raise _not_configured()
    api_key = security.new_api_key()
    key_hash = security.hash_key(api_key)
    gateway_key_id = api_keys.create_disabled(tenant_id, api_key, plans[tenant.plan]) if plans else None
    key = TenantKey(
        keyId=key_id_of(key_hash),
        keyHash=key_hash,
        apiGatewayKeyId=gateway_key_id,
        createdAt=iso(datetime.now(UTC)),
    )
    try:
        tenant_store.add_key(tenant, key)
    except Exception:
        if gateway_key_id:
            api_keys.discard(gateway_key_id)
        raise
    if gateway_key_id:
        api_keys.enable(gateway_key_id)
    return {**_public_key(key, None), "apiKey": api_key}


def revoke_key(tenant_id: str, key_id: str) -> dict[str, Any]:
    """Revokes one of the tenant's keys (its API Gateway key first, then its lookup); the last one cannot be."""
    tenant = _active(tenant_id)
    key = next((k for k in tenant.keys if k.keyId == key_id), None)
    if key is None:
        raise NotFound.of("API key")
    if len(tenant.keys) == 1:
        raise Conflict("This is the tenant's only key: create a second one before revoking it")
    if key.apiGatewayKeyId:
        api_keys.delete(key.apiGatewayKeyId)
    tenant_store.remove_key(tenant, key)
    return {"keyId": key_id, "revoked": True}


def revoke(tenant_id: str) -> dict[str, Any] | None:
    """Revokes the tenant and purges its data within one request's budget; None when unknown.

    Repeating the call carries on with the purge; once nothing is left the tenant is forgotten
    (a later call answers 404).
    """
    tenant = tenant_store.get(tenant_id)
    if tenant is None:
        return None
    if not tenant.revokedAt:
        for key in tenant.keys:
            if key.apiGatewayKeyId:
                api_keys.delete(key.apiGatewayKeyId)
    tenant = tenant_store.mark_revoked(tenant_id, iso(datetime.now(UTC))) or tenant
    gateway_credentials.revoke_all(tenant_id)
    purged = purging.purge_tenant(tenant_id, purging.deadline())
    if purged.complete:
        tenant_store.forget(tenant_id)
    return {"tenantId": tenant_id, "revoked": True, "revokedAt": tenant.revokedAt, **purged.public()}
