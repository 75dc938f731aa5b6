"""Tenant-side session management: register, delete, default subscription, usage."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.counters import store as counters
from hub.delivery import subscription_registry
from hub.delivery.subscriptions import (
    DEFAULT_SUBSCRIPTION_ID,
    RetryPolicy,
    RetryPolicyInput,
    SigningSecret,
    Subscription,
)
from hub.ingest.models import SessionStatus
from hub.platform import clock, ddb, security
from hub.platform.clock import iso
from hub.platform.exceptions import AlreadyExists, ChangedMeanwhile, Conflict, Invalid, NotFound, Unavailable
from hub.sessions import purging, views
from hub.sessions import store as session_store
from hub.sessions.models import ID_PATTERN, STATUS_FILTERS, SessionRecord
from hub.tenants import gateway_credentials

SESSION_ID_PATTERN = ID_PATTERN


class SubscriptionInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhookUrl: str = Field(max_length=2048)
    events: list[str] | None = Field(default=None, max_length=32)
    secret: SigningSecret | None = None
    retry: RetryPolicyInput | None = None


class RegisterSession(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sessionId: str | None = Field(default=None, pattern=SESSION_ID_PATTERN)
    userId: str = Field(min_length=1, max_length=256)
    inboundSecret: str | None = Field(
        default=None,
        max_length=gateway_credentials.MAX_SECRET_LENGTH,
        pattern=gateway_credentials.OWN_SECRET_PATTERN,
        description="The gateway's own secret (e.g. WAHA Plus's hmac.key), at least "
        f"{gateway_credentials.MIN_SECRET_LENGTH} characters; generated when absent",
    )
    webhookUrl: str | None = Field(default=None, max_length=2048)
    events: list[str] | None = Field(default=None, max_length=32)


def owned_session(tenant_id: str, session_id: str) -> SessionRecord:
    """The tenant's session; another tenant's session is 404, never 403."""
    record = session_store.get(tenant_id, session_id)
    if record is None:
        raise NotFound.of("Session")
    return record


HANDLE_ATTEMPTS = 3
"""Handles are 128 random bits: a taken one is drawn again (a session of an earlier release may hold any id)."""


def receiver_url(base_url: str, handle: str) -> str:
    return f"{base_url}/api/whatsapp/webhook/{handle}"


def register(tenant_id: str, request: RegisterSession, base_url: str) -> dict[str, Any]:
    now = iso(datetime.now(UTC))
    session_id = request.sessionId or "ses_" + secrets.token_hex(10)
    own_secret = request.inboundSecret and gateway_credentials.check_own_secret(request.inboundSecret, "inboundSecret")
    subscriptions: list[Subscription] = []
    if request.webhookUrl:
        subscriptions.append(
            Subscription(
                url=subscription_registry.checked_url(request.webhookUrl, "webhookUrl"),
                secret=security.new_signing_secret(),
                events=subscription_registry.checked_events(request.events),
                createdAt=now,
                updatedAt=now,
            )
        )
    for _ in range(HANDLE_ATTEMPTS):
        handle = security.new_receiver_handle()
        record = SessionRecord(
            sessionId=session_id,
            tenantId=tenant_id,
            receiverHandle=handle,
            userId=request.userId,
            createdAt=now,
            updatedAt=now,
            inboundSecret=own_secret or security.new_inbound_secret(handle),
            subscriptions=subscriptions,
            status=SessionStatus.INITIALIZING.value,
            bucket="loading",
        )
        try:
            session_store.create(record)
            break
        except session_store.HandleTaken:
            continue
        except AlreadyExists as error:
            raise Conflict(error.message) from error
    else:
        raise Unavailable("Could not draw a free receiver handle; retry")
    created: dict[str, Any] = {
        "sessionId": session_id,
        "userId": request.userId,
        "status": record.status,
        "receiverHandle": record.receiverHandle,
        "receiverUrl": receiver_url(base_url, record.receiverHandle),
        "createdAt": now,
    }
    if not own_secret:  # shown once; a secret of the caller's own is never echoed
        created["inboundSecret"] = record.inboundSecret
    if subscriptions:
        created["webhook"] = {**subscriptions[0].public(), "secret": subscriptions[0].secret}
    return created


def delete(tenant_id: str, session_id: str) -> dict[str, Any]:
    """Deletes the session (its id is free at once), then erases its events and logs within the request's budget.

    What the budget leaves (`purge.complete` false): logs are cleared by DELETE /api/webhook/logs with the
    instanceId, events expire with their dedupe TTL.
    """
    record = owned_session(tenant_id, session_id)
    try:
        session_store.delete(record)
    except ChangedMeanwhile as error:
        raise Conflict(error.message) from error
    return {
        "sessionId": session_id,
        "deleted": True,
        **purging.purge_session(tenant_id, session_id, purging.deadline()).public(),
    }


def rotate_inbound_secret(tenant_id: str, session_id: str, request: gateway_credentials.RotateSecret) -> dict[str, Any]:
    """A new inbound secret (shown once when generated; it keeps naming the session); the current one is
    accepted for the overlap, then refused."""
    record = owned_session(tenant_id, session_id)
    secret = (
        gateway_credentials.check_own_secret(request.secret, "secret")
        if request.secret
        else security.new_inbound_secret(record.receiverHandle)
    )
    if secret == record.inboundSecret:
        raise Invalid.field("secret", "unchanged", "The new secret is the current one")
    expires_at = clock.now_epoch() + gateway_credentials.overlap_s(request.overlapSeconds)
    try:
        session_store.rotate_inbound_secret(record, secret, expires_at)
    except ChangedMeanwhile as error:
        raise Conflict(error.message) from error
    rotated: dict[str, Any] = {"sessionId": session_id, "previousSecretExpiresAt": clock.iso_of_epoch(expires_at)}
    if not request.secret:
        rotated["inboundSecret"] = secret
    return rotated


def set_default_subscription(tenant_id: str, instance_id: str, request: SubscriptionInput) -> dict[str, Any]:
    """Creates or replaces the default subscription (PUT: what the request omits goes back to its default, not
    to what an earlier PUT set); the secret stays unless given, and a new one is shown in this answer only."""
    record = owned_session(tenant_id, instance_id)
    current = next((s for s in record.subscriptions if s.id == DEFAULT_SUBSCRIPTION_ID), None)
    made_secret = request.secret is None and current is None
    now = iso(datetime.now(UTC))
    subscription = Subscription(
        id=DEFAULT_SUBSCRIPTION_ID,
        url=subscription_registry.checked_url(request.webhookUrl, "webhookUrl"),
        secret=request.secret or (current.secret if current else security.new_signing_secret()),
        events=subscription_registry.checked_events(request.events),
        retry=RetryPolicy.model_validate(request.retry.model_dump()) if request.retry else RetryPolicy(),
        createdAt=(current.createdAt if current else None) or now,
        updatedAt=now,
    )
    others = [s for s in record.subscriptions if s.id != DEFAULT_SUBSCRIPTION_ID]
    try:
        session_store.save_subscriptions(record, [subscription, *others])
    except ChangedMeanwhile as error:
        raise Conflict(error.message) from error
    shown: dict[str, Any] = {
        "instanceId": instance_id,
        "webhookUrl": subscription.url,
        "webhook": subscription.public(),
    }
    if made_secret:
        shown["webhook"]["secret"] = subscription.secret
    return shown


def list_sessions(
    tenant_id: str, *, user_id: str | None, status: str | None, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], dict[str, Any], str | None]:
    """One page of the tenant's sessions as listed, the tenant's summary counts, and the next page's cursor."""
    if status is not None and status not in STATUS_FILTERS:
        raise Invalid.field("status", f"one of {sorted(STATUS_FILTERS)}", f"Unknown status filter {status!r}")
    records, last_key = session_store.query_page(
        tenant_id, user_id=user_id, status=status, limit=limit, cursor=ddb.decode_cursor(cursor)
    )
    summary = counters.read_summary(tenant_id, user_id, status)
    return [views.session_list_item(r) for r in records], summary, ddb.encode_cursor(last_key)


def revoke_links(tenant_id: str, session_id: str, at_ms: int) -> None:
    """Refuses the session's connect links issued up to `at_ms` (epoch ms)."""
    owned_session(tenant_id, session_id)
    try:
        session_store.revoke_links(tenant_id, session_id, at_ms)
    except ChangedMeanwhile as error:
        raise NotFound.of("Session") from error


def usage(tenant_id: str, days: int) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    counted = counters.usage_days(counters.read_usage(tenant_id, first.isoformat(), today.isoformat()))
    rows: list[dict[str, Any]] = []
    for offset in range(days):
        day = (first + timedelta(days=offset)).isoformat()
        rows.append({"date": day, **counted.get(day, {f: 0 for f in counters.USAGE_FIELDS})})
    totals = {f: sum(row[f] for row in rows) for f in counters.USAGE_FIELDS}
    return {"days": rows, "totals": totals, "period": f"{days} days"}
