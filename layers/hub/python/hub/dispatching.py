"""Fan-out: each newly recorded event becomes one queued delivery per target subscription.

The dispatcher reads the Events table's stream. A record that is new (an insert, or a key
recorded again after its dedupe window ran out) yields one DeliveryLog per target, built
from the record alone. Small deliveries travel whole in their queue message, so the worker
needs no read before the first attempt and the log is written once, by that attempt. A
delivery too large to carry inline gets its pending log written here and travels by id.
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

INLINE_LIMIT_BYTES = 60 * 1024
"""Largest message that carries its delivery inline (SQS bills every 64 KiB of a request)."""


class DispatchFailed(Exception):
    """SQS refused some deliveries: the batch must be retried (its stream records read again)."""


def is_new(old: StoredEvent | None, new: StoredEvent | None) -> bool:
    """True for a change that records an event (not a TTL removal, not a rewrite of the same receipt)."""
    return new is not None and (old is None or old.receivedAt != new.receivedAt)


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
    inline = DeliveryMessage(webhookId=log.webhookId, first=log)
    if len(inline.model_dump_json(exclude_none=True).encode("utf-8")) <= INLINE_LIMIT_BYTES:
        return inline
    try:
        delivery_store.create(log)
    except ClientError as error:
        if not ddb.is_conditional_failure(error):
            raise
    return DeliveryMessage(webhookId=log.webhookId)


def dispatch(changes: Iterable[tuple[StoredEvent | None, StoredEvent | None]]) -> int:
    """Queues the deliveries of the new events among `changes`; returns how many were queued."""
    retention = settings.load().log_retention_days
    logs: list[DeliveryLog] = []
    for old, new in changes:
        if is_new(old, new):
            assert new is not None
            logs += deliveries_of(new, retention)
    messages = [message_for(log) for log in logs]
    refused = queue.enqueue(messages) if messages else []
    if refused:
        raise DispatchFailed(f"SQS refused {len(refused)} of {len(messages)} deliveries")
    return len(messages)
