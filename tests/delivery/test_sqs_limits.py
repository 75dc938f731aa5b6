"""The embedded SQS refuses and drops what Amazon SQS does (local.sqs_limits): each limit, caught.

Queues of their own keep these tests apart from the hub's; `clock` moves the embedded SQS's time.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from local.sqs_limits import MAX_VISIBILITY_S


@pytest.fixture
def sqs(aws):
    return boto3.client("sqs")


def make_queue(sqs, name: str, *, retention_s: int = 345_600, max_receive_count: int | None = None) -> tuple[str, str]:
    """A queue (with a DLQ when `max_receive_count` is given); returns both URLs."""
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    attributes = {"MessageRetentionPeriod": str(retention_s), "VisibilityTimeout": "30"}
    if max_receive_count is not None:
        arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": arn, "maxReceiveCount": str(max_receive_count)}
        )
    return sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"], dlq


def receive(sqs, url: str, visibility_s: int | None = None) -> list[dict]:
    extra = {"VisibilityTimeout": visibility_s} if visibility_s is not None else {}
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], **extra).get(
        "Messages", []
    )


def counts(sqs, url: str) -> tuple[str, str]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]


def test_visibility_is_limited_to_12_hours_from_the_receive(sqs, clock):
    url, _ = make_queue(sqs, "visibility")
    sqs.send_message(QueueUrl=url, MessageBody="m")
    [message] = receive(sqs, url)
    clock.advance(1)
    with pytest.raises(ClientError):  # the receive was a moment ago: the full 12 h is over by then
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=MAX_VISIBILITY_S
        )
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=MAX_VISIBILITY_S - 2
    )

    clock.advance(3600)
    with pytest.raises(ClientError) as refused:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=MAX_VISIBILITY_S
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]" in str(refused.value)
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=MAX_VISIBILITY_S - 3602
    )

    clock.advance(MAX_VISIBILITY_S)
    [again] = receive(sqs, url)  # sent 13 h ago: the limit counts from this receive, not from the send
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=again["ReceiptHandle"], VisibilityTimeout=MAX_VISIBILITY_S - 60
    )


def test_an_expired_message_vanishes_and_is_not_redriven(sqs, clock):
    url, dlq = make_queue(sqs, "retention", retention_s=60, max_receive_count=1)
    sqs.send_message(QueueUrl=url, MessageBody="old")
    assert len(receive(sqs, url, visibility_s=0)) == 1
    clock.advance(61)
    assert receive(sqs, url) == []
    assert counts(sqs, url) == ("0", "0")
    assert receive(sqs, dlq) == []


def test_a_message_received_max_receive_count_times_is_redriven(sqs, clock):
    url, dlq = make_queue(sqs, "redrive", max_receive_count=2)
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    for count in ("1", "2"):
        [message] = receive(sqs, url, visibility_s=0)
        assert message["Attributes"]["ApproximateReceiveCount"] == count
    assert receive(sqs, url) == []
    assert [m["Body"] for m in receive(sqs, dlq)] == ["poison"]


@pytest.mark.parametrize("character", ["\ufffe", "\uffff", "\x00", "\x1b", "\ud83d"])
def test_a_body_with_a_character_outside_sqs_set_is_refused(sqs, character):
    url, _ = make_queue(sqs, "characters")
    for send in (
        lambda body: sqs.send_message(QueueUrl=url, MessageBody=body),
        lambda body: sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "0", "MessageBody": body}]),
    ):
        with pytest.raises(ClientError) as refused:
            send(f"text {character} text")
        assert refused.value.response["Error"]["Code"] == "InvalidMessageContents"
    assert counts(sqs, url) == ("0", "0")


def test_a_body_within_sqs_set_is_accepted(sqs):
    url, _ = make_queue(sqs, "allowed")
    body = "tab\t newline\n cr\r \u00e9 \ud7ff \ue000 \ufffd \U0001f600 \U0010ffff"
    sqs.send_message(QueueUrl=url, MessageBody=body)
    assert [m["Body"] for m in receive(sqs, url)] == [body]
