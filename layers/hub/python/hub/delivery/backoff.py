"""Retry schedule: exponential from a base delay, each wait capped at 12 hours.

A wait is carried by SQS: the worker hides the message it received (ChangeMessageVisibility).
SQS refuses to hide a message more than 12 hours after the receive it belongs to, and the
worker calls some time after SQS's receive, so one receive hides a message for at most
MAX_HIDE_S. A longer wait takes a second receive: the message comes back before its attempt
is due and the worker hides it again for the rest (hub.delivery.worker). Every receive counts
toward the queue's maxReceiveCount, which sits above MOST_RECEIVES with a margin
(catalog.DELIVERY_QUEUE).
"""

from __future__ import annotations

import math

from hub.delivery.subscriptions import MAX_RETRY_DELAY_MS, MIN_RETRY_DELAY_MS, RetryPolicy
from hub.platform import catalog, settings

SQS_MAX_VISIBILITY_S = 12 * 3600
"""SQS's limit: a message can be hidden at most 12 hours after it was received."""

MAX_WAIT_S = MAX_RETRY_DELAY_MS // 1000
"""Longest wait before one retry."""

HIDE_MARGIN_S = 15 * 60
"""Time allowed between SQS's receive and the worker's ChangeMessageVisibility (more than the worker's timeout)."""

MAX_HIDE_S = SQS_MAX_VISIBILITY_S - HIDE_MARGIN_S
"""Longest hide the worker asks of one receive."""

LONGEST_SCHEDULE_S = catalog.MAX_RETRY_ATTEMPTS * MAX_WAIT_S
"""The longest retry schedule a subscription can have: 10 retries, 12 hours apart (5 days)."""


def receives_for(wait_s: int) -> int:
    """How many receives a wait of `wait_s` takes before its attempt is due."""
    return max(1, math.ceil(wait_s / MAX_HIDE_S))


MOST_RECEIVES = 1 + catalog.MAX_RETRY_ATTEMPTS * receives_for(MAX_WAIT_S)
"""Receives of one queue message along the longest schedule (the first attempt, then every wait)."""


def retries_allowed(policy: RetryPolicy) -> int:
    return policy.attempts if policy.attempts is not None else settings.load().retry_attempts


def delay_seconds(retry_number: int, policy: RetryPolicy) -> int:
    """Seconds before retry `retry_number` (1 = the first retry): base, 2x base, 4x base, ... up to 12 h.

    The base is at least MIN_RETRY_DELAY_MS, whether it comes from the policy or from
    WEBHOOK_RETRY_DELAY.
    """
    base_ms = policy.delayMs if policy.delayMs is not None else settings.load().retry_delay_ms
    delay = max(MIN_RETRY_DELAY_MS, base_ms) * 2 ** (retry_number - 1) / 1000
    return min(MAX_WAIT_S, math.ceil(delay))


def hide_seconds(wait_s: float) -> int:
    """How long to hide a received message whose attempt is due in `wait_s` (at least 1 s)."""
    return min(MAX_HIDE_S, max(1, math.ceil(wait_s)))
