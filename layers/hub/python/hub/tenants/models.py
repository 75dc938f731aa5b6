"""Tenants' records: what the Tenants table holds of a tenant."""

from __future__ import annotations

from pydantic import BaseModel

from hub.delivery.subscriptions import Subscription

MAX_KEYS = 2
"""Active API keys one tenant may hold: enough to switch to a new key, then revoke the old one."""


class TenantKey(BaseModel):
    """One of the tenant's API keys: never its value, only its hash and (in the cloud) its API Gateway key."""

    keyId: str
    keyHash: str
    apiGatewayKeyId: str | None = None
    createdAt: str


def key_id_of(key_hash: str) -> str:
    """A key's public id: a prefix of its hash (the key cannot be recovered from it)."""
    return "key_" + key_hash[:12]


class Tenant(BaseModel):
    tenantId: str
    name: str
    plan: str
    createdAt: str
    apiGatewayKeyId: str | None = None
    """The first key's API Gateway key (tenants created before several keys were possible hold only this)."""
    revokedAt: str | None = None
    """Set when the tenant is revoked: its key is gone, and its data is being purged (hub.sessions.purging)."""
    keys: list[TenantKey] = []
    keysVersion: int = 0


class Standing(BaseModel):
    """What the per-event path reads of a tenant, in one read: whether it is active and its tenant-wide
    subscriptions (they take every session's events)."""

    active: bool
    subscriptions: list[Subscription] = []
    subscriptionsVersion: int = 0


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
