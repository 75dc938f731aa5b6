"""The current signing secret of a delivery's subscription, looked up at send time.

A subscription's secret lives on its session item only: event records, delivery logs and queue and
dead-letter messages carry a reference (the log's session and tenant, the target's subscription id and
session incarnation), so a secret replaced after an event was recorded signs that event's later attempts
and manual retries, and the secret sits in one table.

First attempts read through a per-process cache (CACHE_S): a burst of one session's events costs one read
of its session per worker instance, not one per delivery; a secret replaced less than CACHE_S ago may
still sign a first attempt. Retries and manual retries (which read their log anyway) read it fresh.
"""

from __future__ import annotations

import threading
import time

from hub.delivery.models import DeliveryLog
from hub.platform import ddb
from hub.sessions import store as session_store
from hub.sessions.store import SubscriptionSecrets

CACHE_S = 60.0

_cache: dict[tuple[str, str, str], tuple[float, SubscriptionSecrets | None]] = {}
_cache_lock = threading.Lock()
_key_locks: dict[tuple[str, str, str], threading.Lock] = {}


class SubscriptionGone(Exception):
    """The delivery's subscription no longer exists (its session was deleted, or the subscription removed)."""


def clear_cache() -> None:
    """Forgets every cached secret (a fresh process)."""
    with _cache_lock:
        _cache.clear()


def _read(tenant_id: str, session_id: str, fresh: bool) -> SubscriptionSecrets | None:
    """The session's secrets, from the cache unless `fresh`; one read at a time per session, so the concurrent
    first attempts of a burst (the worker runs a batch on a thread pool) share one read."""
    key = (ddb.name(session_store.TABLE), tenant_id, session_id)
    with _cache_lock:
        key_lock = _key_locks.setdefault(key, threading.Lock())
    with key_lock:
        now = time.monotonic()
        with _cache_lock:
            cached = None if fresh else _cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = session_store.subscription_secrets(tenant_id, session_id)
        with _cache_lock:
            _cache[key] = (now + CACHE_S, found)
        return found


def _matches(found: SubscriptionSecrets | None, log: DeliveryLog) -> bool:
    return (
        found is not None
        and found.tenantId == log.tenantId
        and log.target.sessionCreatedAt in (None, found.createdAt)
        and log.target.subscriptionId in found.secrets
    )


def current(log: DeliveryLog, *, cached: bool) -> str:
    """The secret `log`'s subscription signs with now; SubscriptionGone when that subscription no longer exists.

    With `cached`, a cached read that does not show the subscription is read again before giving up.
    """
    found = _read(log.tenantId, log.instanceId, fresh=not cached)
    if cached and not _matches(found, log):
        found = _read(log.tenantId, log.instanceId, fresh=True)
    if not _matches(found, log):
        raise SubscriptionGone(
            f"subscription {log.target.subscriptionId!r} of session {log.instanceId!r} no longer "
            "exists (session deleted or subscription removed): not sent"
        )
    assert found is not None
    return found.secrets[log.target.subscriptionId]
