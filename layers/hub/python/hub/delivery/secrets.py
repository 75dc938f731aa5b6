"""The current signing secret of a delivery's subscription, looked up at send time.

A session's subscription secret lives on its session item only, a tenant-wide subscription's on its tenant
record: event records, delivery logs and queue and dead-letter messages carry a reference (the log's session
and tenant, the target's subscription id, session incarnation and `tenantWide` flag), so a secret replaced
after an event was recorded signs that event's later attempts and manual retries, and the secret sits in one place.

First attempts read through a per-process cache (CACHE_S): a burst of one session's events costs one read
of its session (or tenant) per worker instance, not one per delivery; a secret replaced less than CACHE_S ago
may still sign a first attempt. Retries and manual retries (which read their log anyway) read it fresh.
"""

from __future__ import annotations

import threading
import time

from hub.delivery.models import DeliveryLog
from hub.delivery.subscriptions import Subscription
from hub.platform import ddb
from hub.sessions import store as session_store
from hub.tenants import store as tenant_store

CACHE_S = 60.0

Owner = tuple[str, str, str]
"""(table name, "session" or "tenant", its id): whose subscriptions a delivery's is (a session's id is its
`<tenantId>#<sessionId>` key)."""
_cache: dict[Owner, tuple[float, dict[str, Subscription] | None]] = {}
_cache_lock = threading.Lock()
_key_locks: dict[Owner, threading.Lock] = {}


class SubscriptionGone(Exception):
    """The delivery's subscription no longer exists (its session was deleted, or the subscription removed)."""


def clear_cache() -> None:
    """Forgets every cached secret (a fresh process)."""
    with _cache_lock:
        _cache.clear()


def _owner(log: DeliveryLog) -> Owner:
    if log.target.tenantWide:
        return (ddb.name(tenant_store.TABLE), "tenant", log.tenantId)
    return (ddb.name(session_store.TABLE), "session", session_store.session_key(log.tenantId, log.instanceId))


def _subscriptions_of(log: DeliveryLog) -> dict[str, Subscription] | None:
    """The subscriptions of the delivery's owner as stored now; None when the owner is not the log's any more."""
    if log.target.tenantWide:
        standing = tenant_store.standing(log.tenantId, consistent=True)
        return {s.id: s for s in standing.subscriptions} if standing.active else None
    found = session_store.subscription_secrets(log.tenantId, log.instanceId)
    if found is None or found.tenantId != log.tenantId or log.target.sessionCreatedAt not in (None, found.createdAt):
        return None
    return found.subscriptions


def _read(log: DeliveryLog, fresh: bool) -> dict[str, Subscription] | None:
    """The owner's subscriptions, from the cache unless `fresh`; one read at a time per owner, so the concurrent
    first attempts of a burst (the worker runs a batch on a thread pool) share one read."""
    key = _owner(log)
    with _cache_lock:
        key_lock = _key_locks.setdefault(key, threading.Lock())
    with key_lock:
        now = time.monotonic()
        with _cache_lock:
            cached = None if fresh else _cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = _subscriptions_of(log)
        with _cache_lock:
            _cache[key] = (now + CACHE_S, found)
        return found


def subscription(log: DeliveryLog, *, cached: bool) -> Subscription:
    """The subscription `log` belongs to, as it is now; SubscriptionGone when it no longer exists.

    With `cached`, a cached read that does not show the subscription is read again before giving up.
    """
    found = _read(log, fresh=not cached)
    if cached and (found is None or log.target.subscriptionId not in found):
        found = _read(log, fresh=True)
    if found is None or log.target.subscriptionId not in found:
        owner = "the tenant" if log.target.tenantWide else f"session {log.instanceId!r}"
        raise SubscriptionGone(
            f"subscription {log.target.subscriptionId!r} of {owner} no longer "
            "exists (session deleted or subscription removed): not sent"
        )
    return found[log.target.subscriptionId]
