"""The delivery queue: sending deliveries, rescheduling them, parking them in the DLQ."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import boto3
from botocore.config import Config

from hub.delivery.models import DeliveryMessage
from hub.platform import catalog, settings

QUEUE = catalog.DELIVERY_QUEUE
SQS_BATCH = 10


@cache
def client():
    return boto3.client(
        "sqs", config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
    )


def queue_url() -> str:
    return settings.env(QUEUE.env_var)


def dead_letter_url() -> str:
    return settings.env(QUEUE.dead_letter_env_var)


OUTSIDE_SQS_CHARACTERS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""A character SQS refuses in a message body (InvalidMessageContents): its allowed set is
#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF."""


def body_of(message: DeliveryMessage) -> str:
    """The message as SQS carries it: JSON whose characters outside SQS's set are \\u escapes.

    Such characters (U+FFFE, U+FFFF from a WhatsApp text) can only sit inside JSON strings,
    where the escape decodes back to the same character.
    """
    return escaped(message.model_dump_json(exclude_none=True))


def escaped(json_text: str) -> str:
    """JSON text with every character SQS refuses written as a \\u escape."""
    return OUTSIDE_SQS_CHARACTERS.sub(lambda match: f"\\u{ord(match.group()):04x}", json_text)


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
    for batch in _batches([(m.webhookId, body_of(m)) for m in messages]):
        response = client().send_message_batch(
            QueueUrl=queue_url(),
            Entries=[
                {"Id": str(i), "MessageBody": body, "DelaySeconds": delay_seconds} for i, (_, body) in enumerate(batch)
            ],
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
    return [
        [by_id[webhook_id] for webhook_id, _ in batch]
        for batch in _batches([(m.webhookId, body_of(m)) for m in messages])
    ]


def send_batch(messages: list[DeliveryMessage]) -> list[Refusal]:
    """One SendMessageBatch of a group from `batches`; returns what SQS refused and why."""
    response = client().send_message_batch(
        QueueUrl=queue_url(),
        Entries=[{"Id": str(i), "MessageBody": body_of(m)} for i, m in enumerate(messages)],
    )
    return [
        Refusal(messages[int(f["Id"])].webhookId, f.get("Code", ""), bool(f.get("SenderFault")))
        for f in response.get("Failed", [])
    ]


def send(queue_url: str, body: str) -> None:
    """Sends one message to any of the hub's queues (a stream function's failure queue)."""
    client().send_message(QueueUrl=queue_url, MessageBody=body)


def reschedule(receipt_handle: str, hide_seconds: int) -> None:
    """Hides a received message for `hide_seconds`: SQS, not a sleeping Lambda, carries the backoff.

    SQS refuses more than 12 hours after the receive (hub.delivery.backoff.MAX_HIDE_S stays under it).
    """
    client().change_message_visibility(
        QueueUrl=queue_url(), ReceiptHandle=receipt_handle, VisibilityTimeout=hide_seconds
    )


def park_in_dead_letter_queue(body: str) -> None:
    """Parks a message body in the DLQ: a body received from SQS, or one built by `body_of`."""
    client().send_message(QueueUrl=dead_letter_url(), MessageBody=body)
