"""Fair delivery: a subscriber that hangs cannot hold the delivery workers (a per-endpoint circuit breaker).

A worker's SQS batch ends with its slowest delivery, and every batch in flight holds one of the
worker's concurrent invocations: a few deliveries hanging up to `WEBHOOK_TIMEOUT_MS` would hold
all of them and every tenant would wait. So each endpoint (a tenant's subscriber origin:
scheme, host, port) has a breaker, shared by all worker instances (hub.delivery.endpoints_store):

- closed: deliveries are sent with the full timeout. TRIP_AFTER strikes within WINDOW_S trip it; a
  strike is an attempt still running at half its timeout, counted at that moment (so the breaker
  trips while the first hanging attempts are still in flight, not a whole timeout later).
- open (OPEN_S): its deliveries are not sent; each goes back to the queue (SQS visibility) until
  the breaker half-opens, costing a receive, not an attempt. A delivery whose SQS receive budget
  has no room left for that (every remaining retry needs one receive before SQS redrives it) is
  sent with OPEN_TIMEOUT_MS instead, so its retries run and end in the log and DLQ as usual.
- half-open (after OPEN_S): one worker wins the probe (a conditional write) and sends with the
  full timeout, re-opening the breaker for OPEN_S meanwhile; an answer (any HTTP status) closes it.

A hanging endpoint thus holds workers for the attempts sent before its breaker trips (about
TRIP_AFTER, plus those sent while other instances' caches catch up), then one probe per OPEN_S.
The breaker state is read through a per-process cache (CACHE_S), so a healthy endpoint costs one
read per worker instance every CACHE_S, and no write. Any error of the breaker's table lets the
delivery through as if the breaker were closed (fairness never blocks delivery).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from hub.delivery import backoff
from hub.delivery import endpoints_store as endpoints
from hub.delivery.models import CLOSED, Breaker, DeliveryLog
from hub.platform import catalog, ddb, settings
from hub.platform.observability import logger

if TYPE_CHECKING:
    from hub.delivery.sender import AttemptResult

TRIP_AFTER = 2
"""Strikes (attempts still running at SLOW_FRACTION of their timeout) within WINDOW_S that trip a breaker."""
WINDOW_S = 60
SLOW_FRACTION = 0.5
OPEN_S = 30
OPEN_TIMEOUT_MS = 1000
"""Timeout of a delivery sent while its breaker is open (one that cannot wait any longer)."""
CACHE_S = 2.0


@dataclass(frozen=True)
class Gate:
    """What to do with one delivery now."""

    breaker: Breaker = CLOSED
    defer_s: int | None = None
    """Do not send: hand the message back to the queue for this many seconds."""
    timeout_ms: int | None = None
    """Send with this timeout instead of the hub's."""
    probe: bool = False


_cache: dict[str, tuple[float, Breaker]] = {}
_cache_lock = threading.Lock()


def endpoint_key(log: DeliveryLog) -> str:
    """The breaker's key: the tenant and the subscriber's origin (one tenant cannot trip another's)."""
    parts = urlsplit(log.target.url)
    origin = f"{parts.scheme}://{(parts.hostname or '').lower()}:{parts.port or ''}"
    return hashlib.sha256(f"{log.tenantId}\n{origin}".encode()).hexdigest()[:40]


def clear_cache() -> None:
    """Forgets every cached breaker (a fresh process)."""
    with _cache_lock:
        _cache.clear()


def _remember(key: str, breaker: Breaker) -> Breaker:
    with _cache_lock:
        _cache[key] = (time.monotonic() + CACHE_S, breaker)
    return breaker


def _breaker(key: str) -> Breaker:
    with _cache_lock:
        cached = _cache.get(key)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    return _remember(key, endpoints.get(key))


def receives_to_spare(log: DeliveryLog, receive_count: int) -> int:
    """Receives this message may still spend without an attempt: SQS redrives it after
    `max_receive_count` receives, every attempt left needs one, and the last receive is kept spare."""
    attempts_left = backoff.retries_allowed(log.target.retry) + 1 - (log.attempts - log.retryFrom)
    return catalog.DELIVERY_QUEUE.max_receive_count - receive_count - max(attempts_left, 1)


def _while_open(log: DeliveryLog, receive_count: int, breaker: Breaker, now: int) -> Gate:
    if receives_to_spare(log, receive_count) > 0:
        return Gate(breaker, defer_s=min(max((breaker.open_until or now) - now, 1), OPEN_S))
    return Gate(breaker, timeout_ms=OPEN_TIMEOUT_MS)


@contextmanager
def _tolerating_aws(note: str) -> Iterator[None]:
    """Inside, an AWS failure (hub.platform.ddb.is_aws_failure) is logged with `note` and swallowed: the breaker
    spares the pool, and a delivery goes out as if it were closed when its table cannot be reached."""
    try:
        yield
    except Exception as error:
        if not ddb.is_aws_failure(error):
            raise
        logger.warning(note, extra={"error": str(error)})


def admit(log: DeliveryLog, receive_count: int, now: int) -> Gate:
    """How to handle a delivery to `log`'s endpoint at `now` (epoch seconds)."""
    key = endpoint_key(log)
    with _tolerating_aws("endpoint breaker unavailable; sending as if closed"):
        breaker = _breaker(key)
        if breaker.open_until is None:
            return Gate(breaker)
        if now < breaker.open_until:
            return _while_open(log, receive_count, breaker, now)
        probing = endpoints.reopen(key, breaker, now + OPEN_S)
        if probing is not None:
            return Gate(_remember(key, probing), probe=True)
        breaker = _remember(key, endpoints.get(key))
        if breaker.open_until is None:
            return Gate(breaker)
        return _while_open(log, receive_count, breaker, now)
    return Gate()


def attempt(log: DeliveryLog, gate: Gate, send: Callable[[int | None], AttemptResult]) -> AttemptResult:
    """Sends once through `send` (given the gate's timeout) and keeps the endpoint's breaker.

    While the breaker is closed, an attempt still running at SLOW_FRACTION of its timeout is a strike
    at that moment: it holds a worker and will likely time out, and counting it then trips the breaker
    before the timeouts come back. An HTTP answer in time closes a tripped breaker.
    """
    key = endpoint_key(log)
    struck = threading.Event()
    timer = None
    if gate.breaker.open_until is None:
        timeout_ms = gate.timeout_ms or settings.load().timeout_ms
        timer = threading.Timer(timeout_ms * SLOW_FRACTION / 1000, _strike, (key, struck))
        timer.daemon = True
        timer.start()
    try:
        result = send(gate.timeout_ms)
    finally:
        if timer is not None:
            timer.cancel()
    if timer is not None and result.timed_out and not struck.is_set():
        _strike(key, struck)
    elif gate.breaker.open_until is not None and result.status_code is not None:
        with _tolerating_aws("endpoint breaker not closed"):
            endpoints.close(key)
            _remember(key, CLOSED)
    return result


def _strike(key: str, struck: threading.Event) -> None:
    struck.set()
    with _tolerating_aws("endpoint breaker not updated"):
        _remember(key, endpoints.record_strike(key, int(time.time()), WINDOW_S, TRIP_AFTER, OPEN_S))
