"""Tenants' records: what the Tenants table holds of a tenant."""

from __future__ import annotations

from pydantic import BaseModel


class Tenant(BaseModel):
    tenantId: str
    name: str
    plan: str
    createdAt: str
    apiGatewayKeyId: str | None = None
    revokedAt: str | None = None
    """Set when the tenant is revoked: its key is gone, and its data is being purged (hub.sessions.purging)."""


class GatewayCredential(BaseModel):
    credentialId: str
    tenantId: str
    name: str
    gateway: str | None = None
    createdAt: str
    keyHash: str
    rotatedAt: str | None = None
    previousKeyHash: str | None = None
    previousExpiresAt: int | None = None
    """Epoch seconds: until then the key before the last rotation is accepted too."""


class CredentialLookup(BaseModel):
    tenantId: str
    credentialId: str
