"""Ingest fairness: how many events one session's gateway may post (GATEWAY_RATE_LIMIT_PER_SECOND).

A fixed window of GATEWAY_RATE_WINDOW_SECONDS admits rate x window events per tenant's session; the rest of
the window is answered 429 RATE_LIMITED with Retry-After (the seconds left in the window), before anything is
recorded. Checked after the gateway is authenticated, so nobody else can spend a session's allowance.

The count is shared by every receiver instance through one item per session and window (hub.ingest.limits_store),
but written in batches: an instance admits events on its own and adds them to the shared count every
`flush_every` (5% of the allowance) events, and event by event (a conditional add, exact) once the count it knows
is within `flush_every` of the allowance. A quiet session (fewer events per window than `flush_every`) costs no
write at all; a busy one about one write per `flush_every` events. Each other instance serving the session may
admit up to `flush_every - 1` events the shared count does not show yet, so a flood spread over N instances may
get past the allowance by at most N x (flush_every - 1) in a window. An event refused costs nothing once the
instance knows its window is spent.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from hub.ingest import limits_store as rate_limits
from hub.platform import ddb, settings
from hub.platform.exceptions import RateLimited

FLUSH_FRACTION = 20
"""An instance adds its admitted events to the shared count every allowance / FLUSH_FRACTION events."""


@dataclass
class _Window:
    start: int
    shared: int = 0
    """The window's count as this instance last read it."""
    pending: int = 0
    """Events this instance admitted in the window and has not added to the shared count yet."""


_windows: dict[tuple[str, str, str], _Window] = {}
_lock = threading.Lock()


def clear_cache() -> None:
    """Forgets every window this process counted (a fresh process)."""
    with _lock:
        _windows.clear()


def flush_every(allowance: int) -> int:
    return max(1, allowance // FLUSH_FRACTION)


def clock() -> float:
    """Epoch seconds (a test moves it)."""
    return time.time()


def admit(tenant_id: str, session_id: str) -> None:
    """Counts one event of the session's gateway now; raises 429 RATE_LIMITED when its window's allowance is spent."""
    config = settings.load()
    window_s = config.gateway_rate_window_seconds
    allowance = config.gateway_rate_limit_per_second * window_s
    if allowance <= 0:
        return
    now = int(clock())
    start = now - now % window_s
    key = (ddb.name(rate_limits.TABLE), tenant_id, session_id)
    batch = flush_every(allowance)
    with _lock:
        window = _windows.get(key)
        if window is None or window.start != start:
            window = _windows[key] = _Window(start)
        if window.shared + window.pending >= allowance:
            raise _refusal(allowance, window_s, start + window_s - now)
        window.pending += 1
        if window.pending < batch and window.shared + window.pending <= allowance - batch:
            return
        events, window.pending = window.pending, 0
    added, count = rate_limits.add(tenant_id, session_id, start, window_s, events, allowance)
    with _lock:
        if window.start == start:
            window.shared = max(window.shared, count)
    if not added:
        raise _refusal(allowance, window_s, start + window_s - now)


def _refusal(allowance: int, window_s: int, retry_after_s: int) -> RateLimited:
    return RateLimited(
        f"This session's gateway posted its {allowance} events per {window_s} s; retry after {max(retry_after_s, 1)} s",
        retry_after_s=max(retry_after_s, 1),
    )
