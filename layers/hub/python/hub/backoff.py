"""Retry schedule: exponential from a base delay, carried by SQS visibility (max 12 hours)."""

from __future__ import annotations

import math

from hub import settings
from hub.subscriptions import RetryPolicy

SQS_MAX_VISIBILITY_S = 12 * 3600


def retries_allowed(policy: RetryPolicy) -> int:
    return policy.attempts if policy.attempts is not None else settings.load().retry_attempts


def delay_seconds(retry_number: int, policy: RetryPolicy) -> int:
    """Seconds before retry `retry_number` (1 = the first retry): base, 2x base, 4x base, ..."""
    base_ms = policy.delayMs if policy.delayMs is not None else settings.load().retry_delay_ms
    delay = base_ms * 2 ** (retry_number - 1) / 1000
    return min(SQS_MAX_VISIBILITY_S, max(0, math.ceil(delay)))
