"""The delivery queue: sending deliveries, rescheduling them, parking them in the DLQ."""

from __future__ import annotations

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


def enqueue(webhook_ids: list[str], delay_seconds: int = 0) -> list[str]:
    """Sends one message per delivery in batches of 10; returns the ids SQS refused."""
    refused: list[str] = []
    for start in range(0, len(webhook_ids), SQS_BATCH):
        chunk = webhook_ids[start:start + SQS_BATCH]
        response = client().send_message_batch(
            QueueUrl=queue_url(),
            Entries=[
                {"Id": str(i), "MessageBody": DeliveryMessage(webhookId=w).model_dump_json(), "DelaySeconds": delay_seconds}
                for i, w in enumerate(chunk)
            ],
        )
        refused += [chunk[int(f["Id"])] for f in response.get("Failed", [])]
    return refused


def reschedule(receipt_handle: str, delay_seconds: int) -> None:
    """Hides a received message for `delay_seconds`: SQS, not a sleeping Lambda, carries the backoff."""
    client().change_message_visibility(QueueUrl=queue_url(), ReceiptHandle=receipt_handle, VisibilityTimeout=delay_seconds)


def park_in_dead_letter_queue(body: str) -> None:
    client().send_message(QueueUrl=dead_letter_url(), MessageBody=body)
