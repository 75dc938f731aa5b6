"""The SQS poller's delete/keep logic, against moto."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from hub.platform import catalog
from local.poller import SqsPoller, build_sqs_event, failed_message_ids
from local.resources import local_queue_names
from local.runtime import Invoker

WORKER = catalog.function("delivery_worker")


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield boto3.client("sqs")


def _poller(sqs: Any, handler: Callable[[dict, Any], Any]) -> tuple[SqsPoller, str]:
    # The worker's own queue: what a stand-in handler does there is audited against the worker's role.
    url = sqs.create_queue(
        QueueName=local_queue_names(catalog.DELIVERY_QUEUE)[0], Attributes={"VisibilityTimeout": "60"}
    )["QueueUrl"]
    return SqsPoller(WORKER, Invoker(lambda name: handler), url, sqs, wait_s=0), url


def _counts(sqs: Any, url: str) -> tuple[int, int]:
    """(visible, in flight)"""
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])


def test_deletes_all_but_the_reported_failures(sqs: Any) -> None:
    seen: list[dict] = []

    def handler(event: dict, context: Any) -> dict:
        seen.extend(event["Records"])
        return {
            "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "bad"]
        }

    poller, url = _poller(sqs, handler)
    for body in ("ok-1", "bad", "ok-2"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    assert poller.poll_once() == 3
    assert sorted(r["body"] for r in seen) == ["bad", "ok-1", "ok-2"]
    assert _counts(sqs, url) == (0, 1)


def test_keeps_the_batch_when_the_handler_raises(sqs: Any) -> None:
    def handler(event: dict, context: Any) -> dict:
        raise RuntimeError("worker crashed")

    poller, url = _poller(sqs, handler)
    sqs.send_message(QueueUrl=url, MessageBody="a")
    sqs.send_message(QueueUrl=url, MessageBody="b")
    assert poller.poll_once() == 2
    assert _counts(sqs, url) == (0, 2)


def test_leaves_visibility_to_the_handler(sqs: Any) -> None:
    """A handler that backs off by changing visibility (here: retry now) sees the message again."""
    client = sqs
    receive_counts: list[str] = []

    def handler(event: dict, context: Any) -> dict:
        record = event["Records"][0]
        receive_counts.append(record["attributes"]["ApproximateReceiveCount"])
        if len(receive_counts) == 1:
            client.change_message_visibility(QueueUrl=url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0)
            return {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
        return {"batchItemFailures": []}

    poller, url = _poller(sqs, handler)
    sqs.send_message(QueueUrl=url, MessageBody="x")
    assert poller.poll_once() == 1 and poller.poll_once() == 1
    assert receive_counts == ["1", "2"]
    assert _counts(sqs, url) == (0, 0)
    assert poller.poll_once() == 0


def test_event_shape(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="shape")["QueueUrl"]
    sqs.send_message(
        QueueUrl=url,
        MessageBody="{}",
        MessageAttributes={
            "s": {"DataType": "String", "StringValue": "v"},
            "b": {"DataType": "Binary", "BinaryValue": b"\x01"},
        },
    )
    messages = sqs.receive_message(QueueUrl=url, AttributeNames=["All"], MessageAttributeNames=["All"])["Messages"]
    record = build_sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:shape", "us-east-1")["Records"][0]
    assert record["eventSource"] == "aws:sqs" and record["awsRegion"] == "us-east-1"
    assert record["eventSourceARN"].endswith(":shape") and record["md5OfBody"] == messages[0]["MD5OfBody"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["s"] == {
        "stringValue": "v",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["messageAttributes"]["b"]["binaryValue"] == "AQ=="

    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    def record_handler(r: Any) -> None:
        assert r.message_attributes["s"].string_value == "v"
        raise ValueError("fail it")

    # All records failing makes Powertools raise: the poller keeps the batch, as Lambda does.
    with pytest.raises(BatchProcessingError):
        process_partial_response({"Records": [record]}, record_handler, BatchProcessor(EventType.SQS), None)


@pytest.mark.parametrize(
    "result,keep",
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": None}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, {"a", "b"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b"}),
        ({"batchItemFailures": [{"id": "a"}]}, {"a", "b"}),
        ("not a response", {"a", "b"}),
    ],
)
def test_failed_message_ids_follow_lambda_rules(result: Any, keep: set[str]) -> None:
    assert failed_message_ids(result, {"a", "b"}) == keep
