"""Lambda's SQS event source mapping (with ReportBatchItemFailures), for the local hub.

Receives batches, invokes the function with the SQS event Lambda builds, then deletes the
messages that succeeded. Failed ones are left alone: they come back once their visibility
timeout ends (whatever the handler set it to) and are redriven to the DLQ by SQS itself.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable
from typing import Any

import boto3

from hub.platform import catalog
from local.runtime import Invoker, PollingThread

log = logging.getLogger("local")


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """ReceiveMessage's MessageAttributeValue in the shape of Lambda's SQS event."""
    attribute: dict[str, Any] = {
        "stringListValues": value.get("StringListValues", []),
        "binaryListValues": [base64.b64encode(v).decode() for v in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


def build_sqs_event(messages: Iterable[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    records = []
    for message in messages:
        record = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": dict(message.get("Attributes", {})),
            "messageAttributes": {k: _message_attribute(v) for k, v in message.get("MessageAttributes", {}).items()},
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": region,
        }
        if "MD5OfMessageAttributes" in message:
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        records.append(record)
    return {"Records": records}


def failed_message_ids(result: Any, batch_ids: set[str]) -> set[str]:
    """The messages to keep after an invocation that returned `result`, by Lambda's rules.

    None, no `batchItemFailures` or an empty list: the whole batch succeeded. An entry
    without a known `itemIdentifier`, or a result that is not an object: the whole batch failed.
    """
    if result is None:
        return set()
    if not isinstance(result, dict):
        log.warning("SQS handler returned %s, not a batch response: keeping the whole batch", type(result).__name__)
        return set(batch_ids)
    failures = result.get("batchItemFailures") or []
    ids = {f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures}
    if not ids <= batch_ids:
        log.warning("batchItemFailures names unknown or empty ids %s: keeping the whole batch", ids - batch_ids)
        return set(batch_ids)
    return ids  # type: ignore[return-value]


class SqsPoller(PollingThread):
    """Polls one queue for one function, on a thread of its own."""

    def __init__(
        self, function: catalog.Function, invoker: Invoker, queue_url: str, sqs: Any = None, wait_s: int = 1
    ) -> None:
        super().__init__(f"sqs-{function.name}", idle_wait_s=0)
        self.function = function
        self._invoker = invoker
        self._queue_url = queue_url
        self._sqs = sqs or boto3.client("sqs")
        self._wait_s = wait_s
        self._queue_arn = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    def poll_once(self) -> int:
        """One receive / invoke / delete cycle; returns how many messages were received."""
        messages = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=min(self.function.batch_size, 10),
            WaitTimeSeconds=self._wait_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        event = build_sqs_event(messages, self._queue_arn, self._sqs.meta.region_name)
        batch_ids = {m["MessageId"] for m in messages}
        try:
            keep = failed_message_ids(self._invoker.invoke(self.function.name, event), batch_ids)
        except Exception:
            log.exception(
                "%s failed on a batch of %d: it comes back after the visibility timeout",
                self.function.name,
                len(messages),
            )
            keep = batch_ids
        done = [m for m in messages if m["MessageId"] not in keep]
        if done:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
            response = self._sqs.delete_message_batch(QueueUrl=self._queue_url, Entries=entries)
            for failure in response.get("Failed", []):
                log.warning("could not delete a message of %s: %s", self.function.name, failure)
        return len(messages)
