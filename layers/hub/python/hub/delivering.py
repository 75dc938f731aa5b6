"""Delivering one queued delivery: sign, send once, record the attempt, schedule what comes next.

Backoff is carried by SQS: a failed attempt with retries left hides its message for
the backoff delay (visibility timeout) and is reported as a batch failure, so SQS
hands it back later. When retries are exhausted the log becomes `failed` and the
message is parked in the dead-letter queue.

A first receive of the dispatcher's message carries the delivery whole: it is sent without
reading anything, and the attempt creates the log. Every later receive (a retry, a copy
redelivered after a crash) reads the log first and skips what is already done. Recording
is conditional (the log must not exist yet, or must still have the attempt count read),
so one attempt is never recorded twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from enum import Enum

from botocore.exceptions import ClientError
from pydantic import ValidationError

from hub import backoff, fairness, queue, sender, signing
from hub.deliveries import Attempt, DeliveryLog, DeliveryMessage
from hub.clock import iso
from hub.store import ddb
from hub.store import deliveries as delivery_store


class Outcome(str, Enum):
    DELIVERED = "delivered"
    FAILED = "failed"
    SKIPPED = "skipped"
    PARKED = "parked"


class RetryLater(Exception):
    """The delivery failed and was rescheduled: report it as a batch item failure."""


class Deferred(RetryLater):
    """The delivery was not sent (its endpoint's breaker is open, hub.fairness) and comes back later."""


def _next_state(log: DeliveryLog, result: sender.AttemptResult, now: datetime) -> tuple[DeliveryLog, int | None]:
    """The log after this attempt, and the backoff delay in seconds when a retry follows."""
    attempt_number = log.attempts + 1
    attempt = Attempt(
        attempt=attempt_number, at=iso(now), statusCode=result.status_code, durationMs=result.duration_ms,
        ok=result.ok, error=result.error, response=result.response_excerpt,
    )
    retries_used = attempt_number - log.retryFrom - 1
    delay: int | None = None
    if result.ok:
        status = "success"
    elif result.permanent or retries_used >= backoff.retries_allowed(log.target.retry):
        status = "failed"
    else:
        status = "retrying"
        delay = backoff.delay_seconds(retries_used + 1, log.target.retry)
    after = log.model_copy(update={
        "status": status,
        "attempts": attempt_number,
        "attemptLog": [*log.attemptLog, attempt],
        "updatedAt": iso(now),
        "nextAttemptAt": iso(now + timedelta(seconds=delay)) if delay is not None else None,
    })
    return after, delay


def _early_copy(log: DeliveryLog, now: datetime) -> bool:
    """True for a second copy of a message that arrives before the retry it would duplicate is due."""
    return log.status == "retrying" and log.nextAttemptAt is not None and iso(now) < log.nextAttemptAt


def first_copies(bodies: dict[str, str]) -> set[str]:
    """Of a batch's messages (message id -> body), the ids to work on: one per delivery."""
    chosen: dict[str, str] = {}
    for message_id, body in bodies.items():
        try:
            key = DeliveryMessage.model_validate_json(body).webhookId
        except ValidationError:
            key = message_id
        chosen.setdefault(key, message_id)
    return set(chosen.values())


def send_attempt(log: DeliveryLog, now: datetime, timeout_ms: int | None = None) -> sender.AttemptResult:
    """Signs and sends the log's payload once."""
    body = log.payload.encode("utf-8")
    headers = signing.headers(
        body, log.target.secret, message_id=log.eventId, webhook_id=log.webhookId, event=log.event,
        attempt=log.attempts + 1, timestamp=int(now.timestamp()),
    )
    return sender.post(log.target.url, body, headers, timeout_ms)


def process(body: str, receipt_handle: str, receive_count: int = 1) -> Outcome:
    """Handles one delivery-queue message; raises RetryLater when SQS must hand it back later.

    An unexpected error is raised too (the message comes back after the visibility timeout);
    on the last receive before SQS redrives the message to the DLQ, the log is marked failed
    first, so the log and the DLQ agree.
    """
    try:
        message = DeliveryMessage.model_validate_json(body)
    except ValidationError:
        queue.park_in_dead_letter_queue(body)
        return Outcome.PARKED
    try:
        return _deliver(message, receipt_handle, receive_count)
    except RetryLater:
        raise
    except Exception as error:
        if receive_count >= queue.QUEUE.max_receive_count:
            delivery_store.mark_failed(message.webhookId, f"worker error on the last receive: {type(error).__name__}",
                                       iso(datetime.now(timezone.utc)), unrecorded=message.first)
        raise


def _current(message: DeliveryMessage, receive_count: int) -> tuple[DeliveryLog | None, bool]:
    """The delivery to work on, and whether it is stored in the table.

    A dispatcher's message received again whose log does not exist yet (its first receive
    failed before recording) stores the log as pending first, so it shows while it is retried.
    """
    if message.first is not None and receive_count == 1:
        return message.first, False
    log = delivery_store.get(message.webhookId)
    if log is None and message.first is not None:
        try:
            delivery_store.create(message.first)
        except ClientError as error:
            if not ddb.is_conditional_failure(error):
                raise
            return delivery_store.get(message.webhookId), True
        return message.first, True
    return log, log is not None


def _deliver(message: DeliveryMessage, receipt_handle: str, receive_count: int) -> Outcome:
    log, stored = _current(message, receive_count)
    now = datetime.now(timezone.utc)
    if log is None or log.status in ("success", "failed") or _early_copy(log, now):
        return Outcome.SKIPPED
    gate = fairness.admit(log, receive_count, int(now.timestamp()))
    if gate.defer_s is not None:
        queue.reschedule(receipt_handle, gate.defer_s)
        raise Deferred(f"{log.webhookId}: endpoint breaker open, not sent; back in {gate.defer_s} s")
    result = fairness.attempt(log, gate, lambda timeout_ms: send_attempt(log, now, timeout_ms))
    after, delay = _next_state(log, result, now)
    if not delivery_store.record_attempt(log, after, stored):
        return Outcome.SKIPPED
    if delay is not None:
        queue.reschedule(receipt_handle, delay)
        raise RetryLater(f"{log.webhookId}: attempt {after.attempts} failed ({result.error}); retry in {delay} s")
    if after.status == "failed":
        queue.park_in_dead_letter_queue(DeliveryMessage(webhookId=after.webhookId).model_dump_json())
        return Outcome.FAILED
    return Outcome.DELIVERED
