"""Delivering one queued delivery: sign, send once, record the attempt, schedule what comes next.

Backoff is carried by SQS: a failed attempt with retries left hides its message for
the backoff delay (visibility timeout) and is reported as a batch failure, so SQS
hands it back later. SQS hides a message at most 12 hours after a receive, so a wait
longer than one receive allows (hub.delivery.backoff.MAX_HIDE_S) is hidden in parts: a message
that comes back before its retry is due is hidden again for the rest. The worker decides
when a delivery has failed: retries exhausted, a permanent answer (410 Gone, a refused
URL), or a message it cannot process (unreadable, a bad secret, an error that would
recur, a subscription that no longer exists). The log then becomes `failed`, with the reason, and the message is parked in the
dead-letter queue at once. SQS's own redrive (maxReceiveCount) only catches what the
worker never got to handle: crashes and timeouts.

A first receive of the dispatcher's message carries the delivery whole: it is sent without
reading its log (the subscription's secret is read through a per-process cache,
hub.delivery.secrets), and the attempt creates the log. Every later receive (a retry, a copy
redelivered after a crash) reads the log first and skips what is already done. Recording
is conditional (the log must not exist yet, or must still have the attempt count read),
so one attempt is never recorded twice.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from enum import Enum

from pydantic import ValidationError

from hub.delivery import backoff, fairness, health, payloads, queue, recovery, sender, signing
from hub.delivery import secrets as subscription_secrets
from hub.delivery import store as delivery_store
from hub.delivery.models import Attempt, DeliveryLog, DeliveryMessage
from hub.platform import ddb
from hub.platform.clock import iso
from hub.platform.exceptions import AlreadyExists
from hub.platform.observability import logger


def is_transient(error: BaseException) -> bool:
    """Errors from AWS (throttling, outages: hub.platform.ddb.is_aws_failure): the message comes back and is
    tried again. Any other error is the message's own (bad data, a bad secret) and would recur on every receive."""
    return ddb.is_aws_failure(error)


PAYLOAD_GONE = "the event's payload is no longer stored (its record expired, was purged or was recorded again)"


class Outcome(str, Enum):
    DELIVERED = "delivered"
    FAILED = "failed"
    SKIPPED = "skipped"
    PARKED = "parked"
    RECOVERY_PAGE = "recovery_page"


class RetryLater(Exception):
    """The delivery failed and was rescheduled: report it as a batch item failure."""


class NotDueYet(RetryLater):
    """The message came back before its retry is due and was hidden again (no attempt was made)."""


class Deferred(RetryLater):
    """The delivery was not sent (its endpoint's breaker is open, hub.delivery.fairness) and comes back later."""


def _next_state(log: DeliveryLog, result: sender.AttemptResult, moment: datetime) -> tuple[DeliveryLog, int | None]:
    """The log after this attempt, and the backoff delay in seconds when a retry follows."""
    attempt_number = log.attempts + 1
    attempt = Attempt(
        attempt=attempt_number,
        at=iso(moment),
        statusCode=result.status_code,
        durationMs=result.duration_ms,
        ok=result.ok,
        error=result.error,
        response=result.response_excerpt,
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
    after = log.model_copy(
        update={
            "status": status,
            "attempts": attempt_number,
            "attemptLog": [*log.attemptLog, attempt],
            "updatedAt": iso(moment),
            "nextAttemptAt": iso(moment + timedelta(seconds=delay)) if delay is not None else None,
        }
    )
    return after, delay


def now() -> datetime:
    return datetime.now(UTC)


def _seconds_until_due(log: DeliveryLog, moment: datetime) -> float:
    """How long before the log's next retry is due (0 or less when it is due, or none is scheduled)."""
    if log.status != "retrying" or log.nextAttemptAt is None:
        return 0
    return (datetime.fromisoformat(log.nextAttemptAt.replace("Z", "+00:00")) - moment).total_seconds()


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


def send_attempt(
    log: DeliveryLog, secrets: list[str], moment: datetime, timeout_ms: int | None = None
) -> sender.AttemptResult:
    """Signs the log's payload with `secrets` (its subscription's current ones, newest first) and sends it once."""
    assert log.payload is not None
    body = log.payload.encode("utf-8")
    headers = signing.headers(
        body,
        secrets,
        message_id=log.eventId,
        webhook_id=log.webhookId,
        event=log.event,
        attempt=log.attempts + 1,
        timestamp=int(moment.timestamp()),
    )
    return sender.post(log.target.url, body, headers, timeout_ms)


def process(body: str, receipt_handle: str, receive_count: int = 1) -> Outcome:
    """Handles one delivery-queue message; raises RetryLater when SQS must hand it back later.

    A message the worker cannot process is failed on its log and parked at once (PARKED when
    unreadable, FAILED when the error is its delivery's).
    An error from AWS is raised (the message comes back after the visibility timeout); on
    the last receive before SQS would redrive the message, the log is marked failed first,
    so the log and the DLQ agree.
    """
    try:
        message = DeliveryMessage.model_validate_json(body)
    except ValidationError as error:
        _give_up(body, None, _webhook_id_in(body), f"unreadable queue message: {error.errors()[0]['msg']}")
        return Outcome.PARKED
    if message.first is None and message.recovery is None and delivery_store.key_of_id(message.webhookId) is None:
        _give_up(body, message, None, f"{message.webhookId!r} names no log of the Deliveries table (docs/migration.md)")
        return Outcome.PARKED
    try:
        if message.recovery is not None:
            if not recovery.run_page(message.recovery):
                raise RetryLater(f"recovery {message.recovery.recoveryId}: next page not queued; this page again")
            return Outcome.RECOVERY_PAGE
        return _deliver(message, receipt_handle, receive_count)
    except RetryLater:
        raise
    except Exception as error:
        if is_transient(error):
            if receive_count >= queue.QUEUE.max_receive_count:
                delivery_store.mark_failed(
                    message.webhookId,
                    f"worker error on the last receive: {type(error).__name__}",
                    iso(now()),
                    unrecorded=message.first,
                )
            raise
        _give_up(body, message, message.webhookId, f"worker error: {type(error).__name__}: {str(error)[:200]}")
        return Outcome.FAILED


def _webhook_id_in(body: str) -> str | None:
    """The webhook id of a message that is not a valid DeliveryMessage, when it names one."""
    try:
        found = json.loads(body).get("webhookId")
    except (ValueError, AttributeError):
        return None
    return found if isinstance(found, str) and found else None


def _give_up(body: str, message: DeliveryMessage | None, webhook_id: str | None, reason: str) -> None:
    """Fails a message the worker cannot process: a failed attempt with the reason on its log
    (when the message names one), an error log line, and the message parked in the DLQ as received."""
    logger.error(
        "delivery message cannot be processed: parked in the dead-letter queue",
        extra={"webhookId": webhook_id, "reason": reason},
    )
    if webhook_id is not None:
        _record_failure(message, webhook_id, reason)
    queue.park_in_dead_letter_queue(body)


def _record_failure(message: DeliveryMessage | None, webhook_id: str, reason: str) -> None:
    """Records `reason` as a failed, final attempt on the delivery's log; never raises."""
    moment = now()
    try:
        log = delivery_store.get(webhook_id)
        stored = log is not None
        if log is None and message is not None and message.first is not None:
            log = message.first
        if log is not None and log.status not in ("success", "failed"):
            failure = sender.AttemptResult(False, None, 0, reason, None, permanent=True)
            if delivery_store.record_attempt(log, _next_state(log, failure, moment)[0], stored):
                return
    except Exception:  # noqa: BLE001 - the log itself may be what cannot be read: fall back to marking it failed
        logger.exception("could not record the failed attempt", extra={"webhookId": webhook_id})
    delivery_store.mark_failed(webhook_id, reason, iso(moment), unrecorded=message.first if message else None)


def _current(message: DeliveryMessage, receive_count: int) -> tuple[DeliveryLog | None, bool]:
    """The delivery to work on, and whether it is stored in the table.

    A dispatcher's message received again whose log does not exist yet (its first receive
    failed before recording) stores the log as pending first, so it shows while it is retried.
    """
    if message.first is not None and receive_count == 1:
        return message.first, False
    log = delivery_store.get(message.webhookId, message.first)
    if log is None and message.first is not None:
        try:
            delivery_store.create(message.first)
        except AlreadyExists:
            return delivery_store.get(message.webhookId, message.first), True
        return message.first, True
    return log, log is not None


def _send(
    log: DeliveryLog, secrets: list[str], receipt_handle: str, receive_count: int, moment: datetime
) -> sender.AttemptResult:
    """One attempt through the endpoint's breaker (Deferred when it is open), noted for the subscription's health."""
    gate = fairness.admit(log, receive_count, int(moment.timestamp()))
    if gate.defer_s is not None:
        queue.reschedule(receipt_handle, gate.defer_s)
        raise Deferred(f"{log.webhookId}: endpoint breaker open, not sent; back in {gate.defer_s} s")
    result = fairness.attempt(log, gate, lambda timeout_ms: send_attempt(log, secrets, moment, timeout_ms))
    try:
        health.after_attempt(log, result.ok, moment)
    except Exception:  # noqa: BLE001 - health bookkeeping never fails a delivery; the next attempt notes it again
        logger.exception("could not note the subscription's health", extra={"webhookId": log.webhookId})
    return result


def _deliver(message: DeliveryMessage, receipt_handle: str, receive_count: int) -> Outcome:
    log, stored = _current(message, receive_count)
    moment = now()
    if log is None or log.status in ("success", "failed"):
        return Outcome.SKIPPED
    wait = _seconds_until_due(log, moment)
    if wait > 0:
        queue.reschedule(receipt_handle, backoff.hide_seconds(wait))
        raise NotDueYet(f"{log.webhookId}: retry due in {wait:.0f} s; hidden again")
    log = payloads.with_payload(log)
    try:
        subscription = subscription_secrets.subscription(log, cached=not stored)
        if not subscription.enabled and not stored:  # a cached read may predate its re-enabling: read it again
            subscription = subscription_secrets.subscription(log, cached=False)
    except subscription_secrets.SubscriptionGone as gone:
        result = sender.AttemptResult(False, None, 0, str(gone), None, permanent=True)
    else:
        if not subscription.enabled:
            reason = f"subscription disabled ({subscription.disabledReason}): not sent"
            result = sender.AttemptResult(False, None, 0, reason, None, permanent=True)
        elif log.payload is None:
            result = sender.AttemptResult(False, None, 0, PAYLOAD_GONE, None, permanent=True)
        else:
            result = _send(log, subscription.signing_secrets(moment), receipt_handle, receive_count, moment)
    after, delay = _next_state(log, result, moment)
    if not delivery_store.record_attempt(log, after, stored):
        return Outcome.SKIPPED
    if delay is not None:
        queue.reschedule(receipt_handle, backoff.hide_seconds(delay))
        raise RetryLater(f"{log.webhookId}: attempt {after.attempts} failed ({result.error}); retry in {delay} s")
    if after.status == "failed":
        if result.permanent:
            logger.warning(
                "delivery failed without retries", extra={"webhookId": log.webhookId, "reason": result.error}
            )
        queue.park_in_dead_letter_queue(queue.body_of(DeliveryMessage(webhookId=after.webhookId)))
        return Outcome.FAILED
    return Outcome.DELIVERED
