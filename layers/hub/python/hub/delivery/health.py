"""Subscription health: a subscription whose every attempt has failed for SUBSCRIPTION_DISABLE_AFTER_HOURS is
disabled, and the tenant's other enabled subscriptions (tenant-wide ones and those of every session of the
tenant, within a bound: NOTIFY_SESSION_PAGES) are sent a `webhook.endpoint_disabled` event.

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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

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


NOTIFY_SESSION_PAGES = 10
SESSION_PAGE_SIZE = 100
"""`webhook.endpoint_disabled` goes to the subscriptions of the tenant's first NOTIFY_SESSION_PAGES pages of
SESSION_PAGE_SIZE sessions (1,000 sessions, in the list index's order: one Query and one BatchGetItem a page), and
to every tenant-wide subscription; the sessions past that are not told, and an error log says which (those
listed after the last one told)."""


@dataclass(frozen=True)
class Recipient:
    """A subscription to tell, and the session its delivery is logged under (whose item holds a session
    subscription's secret: hub.delivery.secrets)."""

    subscription: Subscription
    tenant_wide: bool
    instance_id: str
    session_created_at: str


def _session_recipients(tenant_id: str) -> tuple[list[Recipient], str | None]:
    """The subscriptions of the tenant's sessions, listed page by page up to the bound; and the id of the last
    session listed when the bound stopped the listing before its end (else None)."""
    found: list[Recipient] = []
    cursor: dict[str, Any] | None = None
    last: str | None = None
    for _ in range(NOTIFY_SESSION_PAGES):
        records, cursor = session_store.query_page(
            tenant_id, user_id=None, status=None, limit=SESSION_PAGE_SIZE, cursor=cursor
        )
        found += [Recipient(s, False, r.sessionId, r.createdAt) for r in records for s in r.subscriptions]
        if cursor is None:
            return found, None
        last = records[-1].sessionId if records else None
    return found, last


def _others(log: DeliveryLog, disabled_session: str | None) -> tuple[list[Recipient], str | None]:
    """The tenant's enabled subscriptions that want the event, but the disabled one: every tenant-wide one and
    those of each of the tenant's sessions (within the bound: `_session_recipients`)."""
    found: list[Recipient] = []
    standing = tenant_store.standing(log.tenantId, consistent=True)
    if standing.active:
        found += [Recipient(s, True, log.instanceId, log.target.sessionCreatedAt or "") for s in standing.subscriptions]
    sessions, stopped_after = _session_recipients(log.tenantId)
    found += sessions
    wanted = [
        r
        for r in found
        if r.subscription.wants(DISABLED_EVENT)
        and not (
            r.subscription.id == log.target.subscriptionId
            and r.tenant_wide == (disabled_session is None)
            and (r.tenant_wide or r.instance_id == disabled_session)
        )
    ]
    return wanted, stopped_after


def disabled_event_id(tenant_id: str, session_id: str | None, subscription_id: str, disabled_at: str) -> str:
    """The `webhook.endpoint_disabled` event's id: the same for every telling of one disabling (a subscription,
    its session or `*` for a tenant-wide one, and when it was disabled), so its deliveries' ids are too."""
    text = f"{tenant_id}#{session_id or '*'}#{subscription_id}#{disabled_at}"
    return "evt_" + hashlib.sha256(text.encode()).hexdigest()[:26]


def _notify(log: DeliveryLog, disabled: Subscription, since: str) -> None:
    """Queues a `webhook.endpoint_disabled` delivery to each of the tenant's other enabled subscriptions, each
    logged under its own session (a tenant-wide one's under the session whose delivery found the failure)."""
    at = disabled.disabledAt or ""
    disabled_session = None if log.target.tenantWide else log.instanceId
    event_id = disabled_event_id(log.tenantId, disabled_session, disabled.id, at)
    data = {
        "subscriptionId": disabled.id,
        "tenantWide": disabled_session is None,
        "sessionId": disabled_session,
        "url": disabled.url,
        "failingSince": since,
        "disabledAt": at,
        "disabledReason": disabled.disabledReason,
    }
    expires = int(
        (
            datetime.fromisoformat(at.replace("Z", "+00:00")) + timedelta(days=settings.load().log_retention_days)
        ).timestamp()
    )
    recipients, stopped_after = _others(log, disabled_session)
    # No event record holds this payload: its log keeps it (hub.delivery.store.to_item, a log without `eventKey`).
    messages = [
        DeliveryMessage(
            webhookId=(
                webhook_id := outbound.webhook_id(
                    event_id, recipient.subscription.id, log.tenantId, recipient.instance_id, at
                )
            ),
            first=DeliveryLog(
                webhookId=webhook_id,
                tenantId=log.tenantId,
                instanceId=recipient.instance_id,
                eventId=event_id,
                event=DISABLED_EVENT,
                payload=outbound.OutboundEvent(
                    id=event_id,
                    event=DISABLED_EVENT,
                    instanceId=recipient.instance_id,
                    timestamp=at,
                    data=data,
                    source=outbound.Source(dialect="hub", event=DISABLED_EVENT),
                ).model_dump_json(),
                target=recipient.subscription.target(recipient.session_created_at, tenant_wide=recipient.tenant_wide),
                createdAt=at,
                updatedAt=at,
                expiresAt=expires,
            ),
        )
        for recipient in recipients
    ]
    refused = queue.enqueue(messages) if messages else []
    if refused:
        logger.error("could not queue every webhook.endpoint_disabled delivery", extra={"refused": refused})
    if stopped_after is not None:
        logger.error(
            "webhook.endpoint_disabled not sent to the subscriptions of the tenant's sessions listed after the "
            "bound (NOTIFY_SESSION_PAGES x SESSION_PAGE_SIZE sessions)",
            extra={
                "tenantId": log.tenantId,
                "eventId": event_id,
                "subscriptionId": disabled.id,
                "sessionsToldUpTo": stopped_after,
                "sessionsBound": NOTIFY_SESSION_PAGES * SESSION_PAGE_SIZE,
            },
        )
