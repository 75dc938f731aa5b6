"""Who is calling: tenants by X-API-Key, operators by X-Admin-Key, gateways by their session."""

from __future__ import annotations

from hub import errors, security, settings
from hub.store import sessions, tenants


def tenant_id(api_key: str | None) -> str:
    """The caller's tenant; 401 for a missing, unknown or revoked key."""
    if not api_key:
        raise errors.unauthorized()
    found = tenants.tenant_id_for_key(security.hash_key(api_key))
    if found is None:
        raise errors.unauthorized()
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
        raise errors.unauthorized("Missing or invalid admin key")


def gateway_session(session_id: str) -> sessions.SessionRecord | None:
    """The session a gateway posts to; None when unknown or when its tenant is revoked (answered alike)."""
    record = sessions.get(session_id)
    if record is None or not tenants.is_active(record.tenantId):
        return None
    return record
