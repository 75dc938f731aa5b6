"""The delivery queue: sending deliveries, rescheduling them, parking them in the DLQ."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import boto3
from botocore.config import Config

from hub import catalog, settings
from hub.deliveries import DeliveryMessage

QUEUE = catalog.DELIVERY_QUEUE
SQS_BATCH = 10


@lru_cache(maxsize=None)
def client():
    return boto3.client("sqs", config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5))


def queue_url() -> str:
    return settings.env(QUEUE.env_var)


def dead_letter_url() -> str:
    return settings.env(QUEUE.dead_letter_env_var)


MAX_BATCH_BYTES = 256 * 1024
"""SQS's limit on one SendMessageBatch (all bodies together)."""


def _batches(bodies: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """(webhook id, body) pairs in SendMessageBatch-sized groups: at most 10 and 256 KiB each."""
    batches: list[list[tuple[str, str]]] = []
    size = 0
    for webhook_id, body in bodies:
        length = len(body.encode("utf-8"))
        if not batches or len(batches[-1]) == SQS_BATCH or size + length > MAX_BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append((webhook_id, body))
        size += length
    return batches


def enqueue(messages: list[DeliveryMessage], delay_seconds: int = 0) -> list[str]:
    """Sends one message per delivery, batched; returns the webhook ids SQS refused."""
    refused: list[str] = []
    for batch in _batches([(m.webhookId, m.model_dump_json(exclude_none=True)) for m in messages]):
        response = client().send_message_batch(
            QueueUrl=queue_url(),
            Entries=[{"Id": str(i), "MessageBody": body, "DelaySeconds": delay_seconds} for i, (_, body) in enumerate(batch)],
        )
        refused += [batch[int(f["Id"])][0] for f in response.get("Failed", [])]
    return refused


@dataclass(frozen=True)
class Refusal:
    """A delivery SQS refused: `sender_fault` when the message itself is at fault (sending it again cannot work)."""

    webhook_id: str
    code: str
    sender_fault: bool


def batches(messages: list[DeliveryMessage]) -> list[list[DeliveryMessage]]:
    """The messages in SendMessageBatch-sized groups, in order (for `send_batch`)."""
    by_id = {m.webhookId: m for m in messages}
    return [[by_id[webhook_id] for webhook_id, _ in batch]
            for batch in _batches([(m.webhookId, m.model_dump_json(exclude_none=True)) for m in messages])]


def send_batch(messages: list[DeliveryMessage]) -> list[Refusal]:
    """One SendMessageBatch of a group from `batches`; returns what SQS refused and why."""
    response = client().send_message_batch(
        QueueUrl=queue_url(),
        Entries=[{"Id": str(i), "MessageBody": m.model_dump_json(exclude_none=True)} for i, m in enumerate(messages)],
    )
    return [Refusal(messages[int(f["Id"])].webhookId, f.get("Code", ""), bool(f.get("SenderFault")))
            for f in response.get("Failed", [])]


def send(queue_url: str, body: str) -> None:
    """Sends one message to any of the hub's queues (a stream function's failure queue)."""
    client().send_message(QueueUrl=queue_url, MessageBody=body)


def reschedule(receipt_handle: str, delay_seconds: int) -> None:
    """Hides a received message for `delay_seconds`: SQS, not a sleeping Lambda, carries the backoff."""
    client().change_message_visibility(QueueUrl=queue_url(), ReceiptHandle=receipt_handle, VisibilityTimeout=delay_seconds)


def park_in_dead_letter_queue(body: str) -> None:
    client().send_message(QueueUrl=dead_letter_url(), MessageBody=body)
