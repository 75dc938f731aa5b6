"""Fan-out: each newly recorded event becomes one queued delivery per target subscription.

The dispatcher reads the Events table's stream. A newly recorded event
(hub.store.events.newly_recorded) yields one DeliveryLog per target, built from the record alone.
Small deliveries travel whole in their queue message, so the worker needs no read before the
first attempt and the log is written once, by that attempt. A delivery whose payload is too
large to carry inline gets its pending log written here and travels by id.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable

from botocore.exceptions import ClientError

from hub import outbound, queue, settings
from hub.deliveries import DeliveryLog, DeliveryMessage
from hub.store import ddb
from hub.store import deliveries as delivery_store
from hub.store.events import StoredEvent

INLINE_PAYLOAD_LIMIT_BYTES = 48 * 1024
"""Largest payload a message carries inline: with the target and the JSON escaping of the payload, the
message stays well under SQS's 256 KiB (and mostly under the 64 KiB SQS bills as one request)."""


class DispatchFailed(Exception):
    """SQS refused some deliveries: the batch must be retried (its stream records read again)."""


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


def dispatch(events: Iterable[StoredEvent]) -> int:
    """Queues the deliveries of newly recorded events; returns how many were queued."""
    retention = settings.load().log_retention_days
    messages = [message_for(log) for event in events for log in deliveries_of(event, retention)]
    refused = queue.enqueue(messages) if messages else []
    if refused:
        raise DispatchFailed(f"SQS refused {len(refused)} of {len(messages)} deliveries")
    return len(messages)
