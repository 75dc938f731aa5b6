"""Fan-out: each newly recorded event becomes one queued delivery per target subscription.

The dispatcher reads the Events table's stream. A newly recorded event
(hub.ingest.store.newly_recorded) yields one DeliveryLog per target, built from the record alone.
Small deliveries travel whole in their queue message, so the worker reads no log before the
first attempt (only its subscription's current secret, cached per process: hub.delivery.secrets)
and the log is written once, by that attempt. A delivery whose payload is too
large to carry inline gets its pending log written here and travels by id.

Records are dispatched one at a time, in stream order (hub.platform.stream_failures): a record whose
deliveries SQS refuses for the message's own sake (SenderFault), or that is not a valid event,
is set aside with the deliveries that were not queued; an SQS or DynamoDB outage stops the batch
at that record for Lambda to retry. Each event's deliveries are one SendMessageBatch (up to 10
targets), so the dispatcher makes about one SQS request per event.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hub.delivery import outbound, queue
from hub.delivery import store as delivery_store
from hub.delivery.models import DeliveryLog, DeliveryMessage
from hub.ingest import store as event_store
from hub.ingest.records import StoredEvent
from hub.platform import ddb, settings, stream_failures
from hub.platform.catalog import FailureQueue
from hub.platform.exceptions import AlreadyExists
from hub.platform.stream_failures import Change, Logging, Transient, is_transient

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
            webhookId=outbound.webhook_id(
                event.eventId, target.subscriptionId, event.tenantId, event.sessionId, event.receivedAt
            ),
            tenantId=event.tenantId,
            instanceId=event.sessionId,
            eventId=event.eventId,
            event=event.event,
            eventKey=event.eventKey,
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
    if len((log.payload or "").encode("utf-8")) <= INLINE_PAYLOAD_LIMIT_BYTES:
        return DeliveryMessage(webhookId=log.webhookId, first=log)
    with contextlib.suppress(AlreadyExists):
        delivery_store.create(log)
    return DeliveryMessage(webhookId=log.webhookId)


def messages_of(change: Change) -> list[DeliveryMessage]:
    """The delivery messages of a stream record: none unless it newly records an event."""
    if change.new is None or not event_store.newly_recorded(change.old, change.new):
        return []
    event = event_store.from_values(change.new)
    return [message_for(log) for log in deliveries_of(event, settings.load().log_retention_days)]


@dataclass
class Sent:
    """What sending the messages of several records came to."""

    unsendable: dict[int, list[str]] = field(default_factory=dict)
    """Per record (its index), the webhook ids SQS refuses for the message's own sake."""
    reasons: set[str] = field(default_factory=set)
    """SQS's error codes for those."""
    stopped_at: int | None = None
    """The first record not known to be sent (a transient failure): it and the ones after are to be retried."""

    def refuse(self, index: int, webhook_ids: list[str], code: str) -> None:
        self.unsendable.setdefault(index, []).extend(webhook_ids)
        self.reasons.add(code)


def send_in_order(owned: list[tuple[int, DeliveryMessage]]) -> Sent:
    """Sends the messages of records (record index, message), in record order, in as few SendMessageBatch as fit.

    A request that fails transiently stops the sending there. A request SQS refuses as a whole for another
    reason is sent again record by record, so the refusal lands on the record it belongs to.
    """
    sent = Sent()
    owner = {m.webhookId: index for index, m in owned}
    for group in queue.batches([m for _, m in owned]):
        records = sorted({owner[m.webhookId] for m in group})
        try:
            refusals = queue.send_batch(group)
        except Exception as error:  # noqa: BLE001 - sorted into transient or the records' own
            if is_transient(error):
                sent.stopped_at = records[0]
                return sent
            if len(records) == 1:
                sent.refuse(records[0], [m.webhookId for m in group], ddb.error_code(error) or type(error).__name__)
                continue
            for index in records:
                alone = send_in_order([(index, m) for m in group if owner[m.webhookId] == index])
                for ids in alone.unsendable.values():
                    sent.unsendable.setdefault(index, []).extend(ids)
                sent.reasons |= alone.reasons
                if alone.stopped_at is not None:
                    sent.stopped_at = index
                    return sent
            continue
        for refusal in refusals:
            if refusal.sender_fault:
                sent.refuse(owner[refusal.webhook_id], [refusal.webhook_id], refusal.code)
            else:
                index = owner[refusal.webhook_id]
                sent.stopped_at = index if sent.stopped_at is None else min(sent.stopped_at, index)
        if sent.stopped_at is not None:
            return sent
    return sent


def send(messages: list[DeliveryMessage]) -> int:
    """Queues the messages of one record; raises Unsendable for those SQS refuses for good, Transient else."""
    sent = send_in_order([(0, m) for m in messages])
    if sent.stopped_at is not None:
        raise Transient(f"SQS did not take the record's {len(messages)} deliveries now")
    if sent.unsendable:
        raise Unsendable(
            f"SQS refuses {len(sent.unsendable[0])} of {len(messages)} deliveries: {sorted(sent.reasons)}",
            sent.unsendable[0],
        )
    return len(messages)


def dispatch(changes: list[Change], failures: FailureQueue, log: Logging) -> tuple[stream_failures.Outcome, int]:
    """Queues the deliveries of a batch's newly recorded events, in stream order; returns the outcome (what was set
    aside, where Lambda must retry from) and how many deliveries were queued."""
    built: list[tuple[Change, list[DeliveryMessage]]] = []
    outcome = stream_failures.process_in_order(changes, lambda c: built.append((c, messages_of(c))), failures, log)
    sent = send_in_order([(index, m) for index, (_, messages) in enumerate(built) for m in messages])
    done = len(built) if sent.stopped_at is None else sent.stopped_at
    if done < len(built):
        log(
            "SQS did not take the deliveries: retrying from this record",
            built[done][0],
            Transient("send_message_batch"),
        )
    for index in sorted(i for i in sent.unsendable if i < done):
        refused = Unsendable(
            f"SQS refuses {len(sent.unsendable[index])} of {len(built[index][1])} deliveries: {sorted(sent.reasons)}",
            sent.unsendable[index],
        )
        try:
            stream_failures.set_aside(failures, built[index][0], refused, refused.webhook_ids)
        except Exception as error:  # noqa: BLE001 - the failure queue refused: retry from this record
            log("could not set the record aside: retrying from it", built[index][0], error)
            done = index
            break
        log("record set aside", built[index][0], refused)
        outcome.set_aside += 1
    if done < len(built):
        outcome.retry_from = built[done][0].sequence_number
    queued = sum(len(messages) for _, messages in built[:done]) - sum(
        len(ids) for index, ids in sent.unsendable.items() if index < done
    )
    return outcome, queued


def replay(change: Change, webhook_ids: list[str] | None = None) -> int:
    """Queues the deliveries of a set-aside record (those in `webhook_ids`, or all), by id, each with its pending log.

    A delivery whose log shows an attempt (or a final status) is skipped: replaying again, even while an
    earlier replay's message is still queued, never sends an event twice (the worker works on a pending
    log once).
    """
    if change.new is None or not event_store.newly_recorded(change.old, change.new):
        return 0
    event = event_store.from_values(change.new)
    wanted = set(webhook_ids) if webhook_ids is not None else None
    messages = [
        DeliveryMessage(webhookId=log.webhookId)
        for log in deliveries_of(event, settings.load().log_retention_days)
        if (wanted is None or log.webhookId in wanted) and _pending(log)
    ]
    return send(messages)


def _pending(log: DeliveryLog) -> bool:
    """Stores the delivery's pending log unless it exists; True while no attempt has been made.

    The log keeps its own copy of the payload: a set-aside record may be replayed after its event's record is gone.
    """
    try:
        delivery_store.create(log, with_payload=True)
        return True
    except AlreadyExists:
        pass
    stored = delivery_store.get(log.webhookId)
    return stored is not None and stored.status == "pending" and stored.attempts == 0
