"""Gateway credentials: a secret of the tenant that authenticates every session of that tenant on one gateway
(docs/gateways.md). For gateways that hold one key or one webhook URL for all their sessions (wwebjs-api's
`API_KEY`, Evolution API's global webhook, a GOWA or wuzapi server's global webhook): the gateway presents it in
clear (`?token=`, `X-Api-Key`, `apikey`) and the session comes from the body (or the path).

Only the key's SHA-256 is stored. A generated key is shown once; a key of the tenant's own (the gateway's existing
one) is accepted when it has at least MIN_SECRET_LENGTH characters.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.platform import clock, security, settings
from hub.platform.clock import iso
from hub.platform.exceptions import AlreadyExists, ChangedMeanwhile, Conflict, Invalid, NotFound
from hub.tenants import store as tenant_store
from hub.tenants.models import GatewayCredential

MIN_SECRET_LENGTH = 24
"""Shortest secret of a caller's own the hub accepts (a gateway credential, an inbound secret): 24 characters."""
MAX_SECRET_LENGTH = 256
OWN_SECRET_PATTERN = r"^[\x21-\x2e\x30-\x7e]+$"
"""Visible ASCII without spaces and without `/`: what a header or a `?token=` carries unchanged (a `/` in a
`?token=` is where Evolution API appends its event, hub.ingest.access)."""
MAX_OVERLAP_S = 7 * 24 * 3600
"""Longest overlap a rotation may ask for (7 days)."""

Gateway = Literal["evolution", "waha", "wwebjs-api", "gowa", "wuzapi", "baileys-api", "device", "other"]


def check_own_secret(secret: str, field: str) -> str:
    """A caller's own secret, long enough; 400 SECRET_TOO_SHORT otherwise."""
    if len(secret) < MIN_SECRET_LENGTH:
        raise Invalid(
            f"{field} must have at least {MIN_SECRET_LENGTH} characters",
            code="SECRET_TOO_SHORT",
            details=[
                {"field": field, "message": f"at least {MIN_SECRET_LENGTH} characters (visible ASCII, no spaces, no /)"}
            ],
        )
    return secret


class CreateCredential(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128, description="What the credential is for, e.g. the gateway's host")
    gateway: Gateway | None = None
    secret: str | None = Field(
        default=None,
        max_length=MAX_SECRET_LENGTH,
        pattern=OWN_SECRET_PATTERN,
        description=f"The gateway's own key (at least {MIN_SECRET_LENGTH} characters); generated when absent",
    )


class RotateSecret(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: str | None = Field(
        default=None,
        max_length=MAX_SECRET_LENGTH,
        pattern=OWN_SECRET_PATTERN,
        description=f"The new key of the caller's own (at least {MIN_SECRET_LENGTH} characters); generated when absent",
    )
    overlapSeconds: int | None = Field(
        default=None,
        ge=0,
        le=MAX_OVERLAP_S,
        description="How long the current key is still accepted (default CREDENTIAL_ROTATION_OVERLAP_S)",
    )


def overlap_s(requested: int | None) -> int:
    return requested if requested is not None else settings.load().credential_rotation_overlap_s


def new_secret() -> str:
    return "whgw_" + secrets.token_urlsafe(32)


def _public(credential: GatewayCredential) -> dict[str, Any]:
    shown = credential.model_dump(include={"credentialId", "name", "gateway", "createdAt", "rotatedAt"})
    if credential.previousExpiresAt and credential.previousExpiresAt > clock.now_epoch():
        shown["previousSecretExpiresAt"] = clock.iso_of_epoch(credential.previousExpiresAt)
    return {k: v for k, v in shown.items() if v is not None}


def create(tenant_id: str, request: CreateCredential) -> dict[str, Any]:
    if len(tenant_store.credentials(tenant_id)) >= tenant_store.MAX_GATEWAY_CREDENTIALS:
        raise Conflict(f"A tenant holds at most {tenant_store.MAX_GATEWAY_CREDENTIALS} gateway credentials")
    secret = check_own_secret(request.secret, "secret") if request.secret else new_secret()
    credential = GatewayCredential(
        credentialId="gwc_" + secrets.token_hex(8),
        tenantId=tenant_id,
        name=request.name,
        gateway=request.gateway,
        createdAt=iso(datetime.now(UTC)),
        keyHash=security.hash_key(secret),
    )
    try:
        tenant_store.create_credential(credential)
    except AlreadyExists as error:
        raise Conflict(error.message) from error
    shown = _public(credential)
    if request.secret is None:
        shown["secret"] = secret
    return shown


def list_for(tenant_id: str) -> list[dict[str, Any]]:
    return [_public(c) for c in sorted(tenant_store.credentials(tenant_id), key=lambda c: c.createdAt)]


def _owned(tenant_id: str, credential_id: str) -> GatewayCredential:
    found = tenant_store.credential(tenant_id, credential_id)
    if found is None:
        raise NotFound.of("Gateway credential")
    return found


def revoke(tenant_id: str, credential_id: str) -> dict[str, Any]:
    """Deletes the credential: its keys (also one in its rotation overlap) stop working at once."""
    try:
        tenant_store.delete_credential(_owned(tenant_id, credential_id))
    except ChangedMeanwhile as error:
        raise Conflict(error.message) from error
    return {"credentialId": credential_id, "revoked": True}


def revoke_all(tenant_id: str) -> None:
    """Deletes every credential of a tenant (its revocation)."""
    for credential in tenant_store.credentials(tenant_id):
        try:
            tenant_store.delete_credential(credential)
        except ChangedMeanwhile:
            continue  # rotated meanwhile: the repeated revocation deletes it


def rotate(tenant_id: str, credential_id: str, request: RotateSecret) -> dict[str, Any]:
    """A new key, shown once when generated; the current key is accepted for the overlap, then refused."""
    before = _owned(tenant_id, credential_id)
    secret = check_own_secret(request.secret, "secret") if request.secret else new_secret()
    now = clock.now_epoch()
    after = before.model_copy(
        update={
            "keyHash": security.hash_key(secret),
            "rotatedAt": clock.iso_of_epoch(now),
            "previousKeyHash": before.keyHash,
            "previousExpiresAt": now + overlap_s(request.overlapSeconds),
        }
    )
    if after.keyHash == before.keyHash:
        raise Invalid.field("secret", "unchanged", "The new key is the current one")
    try:
        tenant_store.rotate_credential(before, after)
    except (AlreadyExists, ChangedMeanwhile) as error:
        raise Conflict(error.message) from error
    shown = _public(after)
    shown["previousSecretExpiresAt"] = clock.iso_of_epoch(after.previousExpiresAt or now)
    if request.secret is None:
        shown["secret"] = secret
    return shown


def tenant_of(presented: Iterable[str]) -> str | None:
    """The tenant whose gateway credential is among the keys presented in clear, or None."""
    now = clock.now_epoch()
    for key in presented:
        found = tenant_store.credential_for_key(security.hash_key(key), now)
        if found is not None:
            return found.tenantId
    return None
