"""Subscription health: a subscription whose every attempt has failed for SUBSCRIPTION_DISABLE_AFTER_HOURS is
disabled, and the tenant's other enabled subscriptions are sent a `webhook.endpoint_disabled` event.

Health is written on a change of state only (hub.delivery.endpoints_store): the first failure after a success
records `failingSince`, the next success deletes it, so neither a healthy nor a steadily failing subscription
costs a write per delivery. What a worker knows of it is cached per process (CACHE_S): a success seen by a worker
whose cache still says healthy clears nothing, so `failingSince` can be up to CACHE_S older than the last success;
the next success after the cache expires clears it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import datetime, timedelta

from hub.delivery import endpoints_store as store
from hub.delivery import outbound, queue
from hub.delivery.models import DeliveryLog, DeliveryMessage
from hub.delivery.subscription_registry import Scope, disable
from hub.delivery.subscriptions import Subscription
from hub.platform import settings
from hub.platform.clock import iso
from hub.platform.observability import logger
from hub.sessions import store as session_store
from hub.tenants import store as tenant_store

CACHE_S = 60.0
DISABLED_EVENT = "webhook.endpoint_disabled"
KEEP_AFTER_S = 7 * 24 * 3600
"""A `failingSince` item outlives the disabling period by this much (TTL), then goes by itself."""

_cache: dict[str, tuple[float, str | None]] = {}
_lock = threading.Lock()


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def health_key(log: DeliveryLog) -> str:
    """The health item of a delivery's subscription (a session's is scoped to the session's incarnation)."""
    if log.target.tenantWide:
        return f"health#{log.tenantId}#*#{log.target.subscriptionId}"
    return f"health#{log.tenantId}#{log.instanceId}#{log.target.sessionCreatedAt or ''}#{log.target.subscriptionId}"


def _failing_since(key: str) -> str | None:
    now = time.monotonic()
    with _lock:
        cached = _cache.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    found = store.failing_since(key)
    _remember(key, found)
    return found


def _remember(key: str, since: str | None) -> None:
    with _lock:
        _cache[key] = (time.monotonic() + CACHE_S, since)


def after_attempt(log: DeliveryLog, ok: bool, moment: datetime) -> None:
    """Notes an attempt's outcome for its subscription's health; disables the subscription when every attempt
    has failed for the configured period."""
    key = health_key(log)
    since = _failing_since(key)
    if ok:
        if since is not None:
            store.recovered(key)
            _remember(key, None)
        return
    period = timedelta(hours=settings.load().disable_after_hours)
    if since is None:
        expires = int((moment + period).timestamp()) + KEEP_AFTER_S
        since = store.start_failing(key, iso(moment), expires)
        _remember(key, since)
    if moment - datetime.fromisoformat(since.replace("Z", "+00:00")) >= period:
        _disable(log, key, since, moment)


def _disable(log: DeliveryLog, key: str, since: str, moment: datetime) -> None:
    scope = Scope(log.tenantId, None if log.target.tenantWide else log.instanceId)
    reason = f"every attempt failed since {since} ({settings.load().disable_after_hours} h)"
    disabled = disable(scope, log.target.subscriptionId, reason, iso(moment))
    store.recovered(key)
    _remember(key, None)
    if disabled is None:
        return
    logger.warning(
        "subscription disabled: every attempt failed for the disabling period",
        extra={"tenantId": log.tenantId, "subscriptionId": disabled.id, "failingSince": since},
    )
    _notify(log, disabled, since)


def _others(log: DeliveryLog) -> list[tuple[Subscription, bool]]:
    """The tenant's enabled subscriptions that want the event, but the disabled one: the same session's and the
    tenant-wide ones (with whether each is tenant-wide)."""
    found: list[tuple[Subscription, bool]] = []
    session = session_store.get(log.tenantId, log.instanceId)
    if session is not None:
        found += [(s, False) for s in session.subscriptions]
    standing = tenant_store.standing(log.tenantId, consistent=True)
    if standing.active:
        found += [(s, True) for s in standing.subscriptions]
    return [
        (s, wide)
        for s, wide in found
        if s.wants(DISABLED_EVENT) and not (s.id == log.target.subscriptionId and wide == bool(log.target.tenantWide))
    ]


def _notify(log: DeliveryLog, disabled: Subscription, since: str) -> None:
    """Queues a `webhook.endpoint_disabled` delivery to each of the tenant's other enabled subscriptions."""
    at = disabled.disabledAt or ""
    event_id = "evt_" + hashlib.sha256(f"{log.tenantId}#{log.instanceId}#{disabled.id}#{at}".encode()).hexdigest()[:26]
    payload = outbound.OutboundEvent(
        id=event_id,
        event=DISABLED_EVENT,
        instanceId=log.instanceId,
        timestamp=at,
        data={
            "subscriptionId": disabled.id,
            "tenantWide": bool(log.target.tenantWide),
            "sessionId": None if log.target.tenantWide else log.instanceId,
            "url": disabled.url,
            "failingSince": since,
            "disabledAt": at,
            "disabledReason": disabled.disabledReason,
        },
        source=outbound.Source(dialect="hub", event=DISABLED_EVENT),
    ).model_dump_json()
    session_created_at = log.target.sessionCreatedAt or ""
    expires = int(
        (
            datetime.fromisoformat(at.replace("Z", "+00:00")) + timedelta(days=settings.load().log_retention_days)
        ).timestamp()
    )
    # No event record holds this payload: its log keeps it (hub.delivery.store.to_item, a log without `eventKey`).
    messages = [
        DeliveryMessage(
            webhookId=(webhook_id := outbound.webhook_id(event_id, subscription.id, log.tenantId, log.instanceId, at)),
            first=DeliveryLog(
                webhookId=webhook_id,
                tenantId=log.tenantId,
                instanceId=log.instanceId,
                eventId=event_id,
                event=DISABLED_EVENT,
                payload=payload,
                target=subscription.target(session_created_at, tenant_wide=wide),
                createdAt=at,
                updatedAt=at,
                expiresAt=expires,
            ),
        )
        for subscription, wide in _others(log)
    ]
    refused = queue.enqueue(messages) if messages else []
    if refused:
        logger.error("could not queue every webhook.endpoint_disabled delivery", extra={"refused": refused})
