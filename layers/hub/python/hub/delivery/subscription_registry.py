"""Subscriptions as a resource (docs/subscriptions.md): a session's endpoints and the tenant's tenant-wide ones.

Both kinds share one shape and one set of operations; a `Scope` says whose list an operation works on. A
session's subscriptions are stored on its item and the tenant-wide ones on the tenant record, each list with
its own version: every change reads the list, changes it and writes it back on the condition that nobody
changed it meanwhile (else 409 CONFLICT, and the caller retries).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.delivery import urls
from hub.delivery.subscriptions import (
    DEFAULT_ROTATION_OVERLAP_S,
    MAX_ROTATION_OVERLAP_S,
    RetryPolicy,
    RetryPolicyInput,
    SigningSecret,
    Subscription,
    validate_event_filter,
)
from hub.platform import security, settings
from hub.platform.clock import iso
from hub.platform.exceptions import ChangedMeanwhile, Conflict, HubError, Invalid, NotFound, Unauthenticated
from hub.sessions import store as session_store
from hub.tenants import store as tenant_store

MAX_SESSION_SUBSCRIPTIONS = 5
"""Subscriptions one session may have: they are stored on its item, which every state change of the session
rewrites (and DynamoDB bills a write by the item's size, per KB)."""
MAX_TENANT_SUBSCRIPTIONS = 10
"""Tenant-wide subscriptions one tenant may have (they take every event of every session of the tenant)."""
ID_PREFIX = "sub_"


@dataclass(frozen=True)
class Scope:
    """Whose subscriptions: one session's (`session_id`) or the tenant's tenant-wide ones (`session_id` None)."""

    tenant_id: str
    session_id: str | None = None


class SubscriptionFields(BaseModel):
    """What a caller sets on a subscription (PUT replaces all of it; omitted fields take their defaults)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048, description="The subscriber's https URL")
    events: list[str] = Field(
        default_factory=list, max_length=32, description="Event types or prefixes (`message.*`); empty: all"
    )
    retry: RetryPolicyInput = Field(default_factory=RetryPolicyInput)
    description: str | None = Field(default=None, max_length=256)
    enabled: bool = True


class CreateSubscription(SubscriptionFields):
    secret: SigningSecret | None = Field(default=None, description="Omit to have one generated (shown once)")


class PatchSubscription(BaseModel):
    """The fields to change; the others stay. `enabled: true` re-enables a disabled subscription."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2048)
    events: list[str] | None = Field(default=None, max_length=32)
    retry: RetryPolicyInput | None = None
    description: str | None = Field(default=None, max_length=256)
    enabled: bool | None = None


class RotateSecret(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: SigningSecret | None = Field(default=None, description="The new secret; omit to have one generated")
    overlapSeconds: int = Field(
        default=DEFAULT_ROTATION_OVERLAP_S,
        ge=0,
        le=MAX_ROTATION_OVERLAP_S,
        description="How long the old secret still signs deliveries (0 to 604800, default 86400)",
    )


def checked_url(url: str, field: str = "url") -> str:
    """A subscriber URL the hub may send to (hub.delivery.urls), else 400 naming `field`."""
    try:
        return urls.check_subscriber_url(url, local=settings.load().local)
    except urls.UnsafeUrl as error:
        raise Invalid.field(field, str(error)) from error


def checked_events(events: list[str] | None) -> list[str]:
    try:
        return validate_event_filter(events or [])
    except ValueError as error:
        raise Invalid.field("events", str(error)) from error


def public(scope: Scope, subscription: Subscription) -> dict[str, Any]:
    """A subscription as reads show it: never its secrets."""
    return {
        "id": subscription.id,
        "sessionId": scope.session_id,
        "tenantWide": scope.session_id is None,
        **subscription.model_dump(include={"url", "events", "retry", "description", "enabled"}),
        "disabledReason": subscription.disabledReason,
        "disabledAt": subscription.disabledAt,
        "createdAt": subscription.createdAt,
        "updatedAt": subscription.updatedAt,
        "previousSecretExpiresAt": subscription.previousSecretExpiresAt if subscription.previousSecret else None,
    }


@dataclass
class Listing:
    """A scope's subscriptions as read, with the version their write must find."""

    subscriptions: list[Subscription]
    version: int
    session: session_store.SessionRecord | None = None


def load(scope: Scope) -> Listing:
    """The scope's subscriptions (404 for a session that is not the tenant's, exactly as for a missing one)."""
    if scope.session_id is None:
        standing = tenant_store.standing(scope.tenant_id, consistent=True)
        if not standing.active:
            raise Unauthenticated("Missing or invalid API key")
        return Listing(standing.subscriptions, standing.subscriptionsVersion)
    record = session_store.get(scope.tenant_id, scope.session_id)
    if record is None:
        raise NotFound.of("Session")
    return Listing(record.subscriptions, record.subscriptionsVersion, record)


def save(scope: Scope, listing: Listing, subscriptions: list[Subscription]) -> None:
    """Writes the scope's subscriptions if nobody changed them since `listing` was read; else ChangedMeanwhile
    (409 CONFLICT: the caller sends the change again)."""
    if listing.session is None:
        tenant_store.save_subscriptions(scope.tenant_id, subscriptions, listing.version)
    else:
        session_store.save_subscriptions(listing.session, subscriptions)


def _find(listing: Listing, subscription_id: str) -> Subscription:
    found = next((s for s in listing.subscriptions if s.id == subscription_id), None)
    if found is None:
        raise NotFound.of("Subscription")
    return found


def _replaced(listing: Listing, subscription: Subscription) -> list[Subscription]:
    return [subscription if s.id == subscription.id else s for s in listing.subscriptions]


def _now() -> str:
    return iso(datetime.now(UTC))


def list_subscriptions(scope: Scope) -> list[dict[str, Any]]:
    return [public(scope, s) for s in load(scope).subscriptions]


def get(scope: Scope, subscription_id: str) -> dict[str, Any]:
    return public(scope, _find(load(scope), subscription_id))


def create(scope: Scope, request: CreateSubscription) -> dict[str, Any]:
    """Adds a subscription; its secret (given or generated) is in this answer only."""
    listing = load(scope)
    limit = MAX_TENANT_SUBSCRIPTIONS if scope.session_id is None else MAX_SESSION_SUBSCRIPTIONS
    if len(listing.subscriptions) >= limit:
        raise Conflict(f"At most {limit} subscriptions here; delete one before adding another", code="LIMIT_REACHED")
    now = _now()
    subscription = Subscription(
        id=ID_PREFIX + secrets.token_hex(8),
        url=checked_url(request.url),
        secret=request.secret or security.new_signing_secret(),
        events=checked_events(request.events),
        retry=RetryPolicy.model_validate(request.retry.model_dump()),
        description=request.description,
        enabled=request.enabled,
        createdAt=now,
        updatedAt=now,
    )
    save(scope, listing, [*listing.subscriptions, subscription])
    return {**public(scope, subscription), "secret": subscription.secret}


def _updated(current: Subscription, fields: dict[str, Any]) -> Subscription:
    """`current` with `fields` set; enabling clears why it was disabled, disabling by hand records when."""
    changes = {**fields, "updatedAt": _now()}
    if "url" in fields:
        changes["url"] = checked_url(fields["url"])
    if "events" in fields:
        changes["events"] = checked_events(fields["events"])
    if "retry" in fields:
        changes["retry"] = RetryPolicy.model_validate(fields["retry"])
    if changes.get("enabled") is True:
        changes.update(disabledReason=None, disabledAt=None)
    elif changes.get("enabled") is False and current.enabled:
        changes.update(disabledReason="disabled by the tenant", disabledAt=changes["updatedAt"])
    return current.model_copy(update=changes)


def replace(scope: Scope, subscription_id: str, request: SubscriptionFields) -> dict[str, Any]:
    """PUT: every field as given, omitted ones back to their defaults; id, secret and createdAt stay."""
    listing = load(scope)
    updated = _updated(_find(listing, subscription_id), request.model_dump())
    save(scope, listing, _replaced(listing, updated))
    return public(scope, updated)


def patch(scope: Scope, subscription_id: str, request: PatchSubscription) -> dict[str, Any]:
    """PATCH: only the fields given change."""
    listing = load(scope)
    given = request.model_dump(include=request.model_fields_set)
    for field in ("url", "events", "retry", "enabled"):
        if field in given and given[field] is None:
            raise Invalid.field(field, "not nullable", f"{field} cannot be null")
    updated = _updated(_find(listing, subscription_id), given)
    save(scope, listing, _replaced(listing, updated))
    return public(scope, updated)


def delete(scope: Scope, subscription_id: str) -> dict[str, Any]:
    """Removes the subscription: its queued and retrying deliveries fail as `no longer exists` (not sent)."""
    listing = load(scope)
    _find(listing, subscription_id)
    save(scope, listing, [s for s in listing.subscriptions if s.id != subscription_id])
    return {"id": subscription_id, "deleted": True}


def rotate_secret(scope: Scope, subscription_id: str, request: RotateSecret) -> dict[str, Any]:
    """Gives the subscription a new secret (in this answer only); for `overlapSeconds` deliveries carry the old
    secret's signature too, so the subscriber verifies with either while it switches. A rotation during another's
    overlap ends that one: the secret it replaced stops signing."""
    listing = load(scope)
    current = _find(listing, subscription_id)
    new_secret = request.secret or security.new_signing_secret()
    if new_secret == current.secret:
        raise Invalid.field("secret", "give a different secret", "The new secret is the current one")
    now = datetime.now(UTC)
    overlap = request.overlapSeconds > 0
    rotated = current.model_copy(
        update={
            "secret": new_secret,
            "previousSecret": current.secret if overlap else None,
            "previousSecretExpiresAt": iso(now + timedelta(seconds=request.overlapSeconds)) if overlap else None,
            "updatedAt": iso(now),
        }
    )
    save(scope, listing, _replaced(listing, rotated))
    return {**public(scope, rotated), "secret": new_secret}


def disable(scope: Scope, subscription_id: str, reason: str, at: str) -> Subscription | None:
    """Disables a subscription for the hub's health rule (hub.delivery.health); None when it is gone or was
    disabled already (then nobody is told twice)."""
    for _ in range(3):  # the list may change between the read and the write; read it again
        try:
            listing = load(scope)
        except HubError:  # the session or the tenant is gone
            return None
        current = next((s for s in listing.subscriptions if s.id == subscription_id), None)
        if current is None or not current.enabled:
            return None
        disabled = current.model_copy(update={"enabled": False, "disabledReason": reason, "disabledAt": at})
        try:
            save(scope, listing, _replaced(listing, disabled))
        except ChangedMeanwhile:
            continue
        return disabled
    return None
