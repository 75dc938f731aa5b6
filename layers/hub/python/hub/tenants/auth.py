"""Who is calling: tenants by X-API-Key, operators by X-Admin-Key; whether a gateway's tenant is active."""

from __future__ import annotations

import time

from hub.platform import security, settings
from hub.platform.exceptions import Unauthenticated
from hub.tenants import store as tenants
from hub.tenants.models import Standing

MISSING_API_KEY = "Missing or invalid API key"


def tenant_id(api_key: str | None) -> str:
    """The caller's tenant; 401 for a missing, unknown or revoked key."""
    if not api_key:
        raise Unauthenticated(MISSING_API_KEY)
    found = tenants.tenant_id_for_key(security.hash_key(api_key))
    if found is None:
        raise Unauthenticated(MISSING_API_KEY)
    return found


def _secret_admin_key(secret_arn: str) -> str:
    from aws_lambda_powertools.utilities import parameters

    return str(parameters.get_secret(secret_arn, max_age=300))


def admin_key() -> str:
    """The operator key: ADMIN_API_KEY locally, the stack's Secrets Manager secret in the cloud."""
    secret_arn = settings.env("ADMIN_KEY_SECRET_ARN")
    return _secret_admin_key(secret_arn) if secret_arn else settings.env("ADMIN_API_KEY")


def require_admin(presented: str | None) -> None:
    expected = admin_key()
    if not expected or not security.keys_match(presented, expected):
        raise Unauthenticated("Missing or invalid admin key")


_tenant_standing: dict[str, tuple[float, Standing]] = {}
"""Tenant id -> (when read, standing): what this instance last read of the tenant (TENANT_STATUS_CACHE_S)."""


def standing(tenant_id: str) -> Standing:
    """The tenant's standing (active, tenant-wide subscriptions), read at most once per TENANT_STATUS_CACHE_S per
    instance: a gateway event costs no Tenants read in the steady state, and a revocation or a change of the
    tenant-wide subscriptions reaches every instance within that time."""
    now = time.monotonic()
    cached = _tenant_standing.get(tenant_id)
    if cached and now - cached[0] < settings.load().tenant_status_cache_s:
        return cached[1]
    found = tenants.standing(tenant_id)
    _tenant_standing[tenant_id] = (now, found)
    return found


def tenant_active(tenant_id: str) -> bool:
    return standing(tenant_id).active


def clear_cache() -> None:
    """Drops what this instance knows of tenants (a fresh execution environment)."""
    _tenant_standing.clear()
