"""Fan-out: each newly recorded event becomes one queued delivery per target subscription.

The dispatcher reads the Events table's stream. A newly recorded event
(hub.store.events.newly_recorded) yields one DeliveryLog per target, built from the record alone.
Small deliveries travel whole in their queue message, so the worker needs no read before the
first attempt and the log is written once, by that attempt. A delivery whose payload is too
large to carry inline gets its pending log written here and travels by id.

Records are dispatched one at a time, in stream order (hub.stream_failures): a record whose
deliveries SQS refuses for the message's own sake (SenderFault), or that is not a valid event,
is set aside with the deliveries that were not queued; an SQS or DynamoDB outage stops the batch
at that record for Lambda to retry. Each event's deliveries are one SendMessageBatch (up to 10
targets), so the dispatcher makes about one SQS request per event.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from botocore.exceptions import ClientError

from hub import outbound, queue, settings
from hub.deliveries import DeliveryLog, DeliveryMessage
from hub.store import ddb
from hub.store import deliveries as delivery_store
from hub.store import events as event_store
from hub.store.events import StoredEvent
from hub.stream_failures import Change, SetAside, Transient

INLINE_PAYLOAD_LIMIT_BYTES = 48 * 1024
"""Largest payload a message carries inline: with the target and the JSON escaping of the payload, the
message stays well under SQS's 256 KiB (and mostly under the 64 KiB SQS bills as one request)."""


class Unsendable(Exception):
    """SQS refused deliveries for their own sake (SenderFault): sending them again cannot work."""

    def __init__(self, message: str, webhook_ids: list[str]) -> None:
        super().__init__(message)
        self.webhook_ids = webhook_ids


def deliveries_of(event: StoredEvent, log_retention_days: int) -> list[DeliveryLog]:
    received = datetime.fromisoformat(event.receivedAt)
    expires = int((received + timedelta(days=log_retention_days)).timestamp())
    return [
        DeliveryLog(
            webhookId=outbound.webhook_id(event.eventId, target.subscriptionId),
            tenantId=event.tenantId,
            instanceId=event.sessionId,
            eventId=event.eventId,
            event=event.event,
            payload=event.payload,
            target=target,
            createdAt=event.receivedAt,
            updatedAt=event.receivedAt,
            expiresAt=expires,
        )
        for target in event.targets
    ]


def message_for(log: DeliveryLog) -> DeliveryMessage:
    """The whole delivery when it fits inline; else its pending log is stored and the message names it."""
    if len(log.payload.encode("utf-8")) <= INLINE_PAYLOAD_LIMIT_BYTES:
        return DeliveryMessage(webhookId=log.webhookId, first=log)
    try:
        delivery_store.create(log)
    except ClientError as error:
        if not ddb.is_conditional_failure(error):
            raise
    return DeliveryMessage(webhookId=log.webhookId)


def send(messages: list[DeliveryMessage]) -> int:
    """Queues the messages; raises Unsendable for those SQS refuses for good, Transient for the others."""
    refused = queue.enqueue_reporting(messages) if messages else []
    if any(not r.sender_fault for r in refused):
        raise Transient(f"SQS refused {len(refused)} of {len(messages)} deliveries: {sorted({r.code for r in refused})}")
    if refused:
        raise Unsendable(f"SQS refuses {len(refused)} of {len(messages)} deliveries: {sorted({r.code for r in refused})}",
                         [r.webhook_id for r in refused])
    return len(messages)


def dispatch(change: Change) -> int:
    """Queues the deliveries of a stream record if it newly records an event; returns how many were queued."""
    if not event_store.newly_recorded(change.old, change.new):
        return 0
    event = StoredEvent.model_validate(change.new)
    retention = settings.load().log_retention_days
    return send([message_for(log) for log in deliveries_of(event, retention)])


def replay(change: Change, aside: SetAside) -> int:
    """Queues the deliveries a set-aside record did not get queued, by id, each with its pending log.

    A delivery whose log shows an attempt (or a final status) is skipped: replaying again, even while an
    earlier replay's message is still queued, never sends an event twice (the worker works on a pending
    log once).
    """
    event = StoredEvent.model_validate(change.new)
    wanted = set(aside.webhookIds) if aside.webhookIds is not None else None
    messages = [DeliveryMessage(webhookId=log.webhookId)
                for log in deliveries_of(event, settings.load().log_retention_days)
                if (wanted is None or log.webhookId in wanted) and _pending(log)]
    return send(messages)


def _pending(log: DeliveryLog) -> bool:
    """Stores the delivery's pending log unless it exists; True while no attempt has been made."""
    try:
        delivery_store.create(log)
        return True
    except ClientError as error:
        if not ddb.is_conditional_failure(error):
            raise
    stored = delivery_store.get(log.webhookId)
    return stored is not None and stored.status == "pending" and stored.attempts == 0
