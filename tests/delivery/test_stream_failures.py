"""Stream consumers: a record they cannot process is set aside whole into their own failure queue, never holds
up its shard, and replays once; the aggregator counts a record once however late Lambda retries it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from hub.counters import store as counters
from hub.delivery import queue
from hub.ingest.models import NormalizedEvent
from hub.platform import catalog, ddb, settings
from tests.delivery.conftest import accept, dead_letters, message_event, status_event
from tests.delivery.test_delivery import logs, subscribe


def failure_messages(failures: catalog.FailureQueue) -> list[dict[str, Any]]:
    """The failure queue's messages, left visible again (a replay can take them)."""
    url = settings.env(failures.env_var)
    messages = queue.client().receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    for message in messages:
        queue.client().change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return [json.loads(m["Body"]) for m in messages]


def held(failures: catalog.FailureQueue) -> int:
    """Messages the failure queue holds, visible or not (a replay leaves a failing one hidden for a while)."""
    attributes = queue.client().get_queue_attributes(
        QueueUrl=settings.env(failures.env_var),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def invoke(function_name: str, event: dict[str, Any]) -> Any:
    from local.runtime import Invoker

    return Invoker().invoke(function_name, event)


def put_raw_event(session_id: str, event_key: str, **fields: Any) -> None:
    """An Events item the receiver would never write (a bug, an older schema): not a valid StoredEvent."""
    ddb.client().put_item(
        TableName=settings.table_name(catalog.EVENTS),
        Item=ddb.to_item({"sessionKey": f"t-x#{session_id}", "sessionId": session_id, "eventKey": event_key, **fields}),
    )


def delivered_events(subscriber) -> list[str]:
    return [body["event"] for body in subscriber.bodies()]


def text_event(session_id: str, n: int, text: str) -> NormalizedEvent:
    event = message_event(session_id, n)
    return event.model_copy(update={"data": {**event.data, "body": text}})


class RefusingSqs:
    """SQS refusing, for the message's own sake, every delivery whose body contains `marker`: as a failed entry
    (SenderFault), or refusing the whole request that carries it (`whole_request`)."""

    def __init__(self, real, marker: str, whole_request: bool = False) -> None:
        self._real, self._marker, self._whole_request = real, marker, whole_request

    def __getattr__(self, name):
        return getattr(self._real, name)

    def send_message_batch(self, QueueUrl, Entries):
        refused = [e for e in Entries if self._marker in e["MessageBody"]]
        if refused and self._whole_request:
            raise ClientError(
                {
                    "Error": {"Code": "InvalidMessageContents", "Message": "injected"},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                },
                "SendMessageBatch",
            )
        accepted = [e for e in Entries if e not in refused]
        response = self._real.send_message_batch(QueueUrl=QueueUrl, Entries=accepted) if accepted else {}
        return {
            "Successful": response.get("Successful", []),
            "Failed": [
                {"Id": e["Id"], "SenderFault": True, "Code": "InvalidMessageContents", "Message": "injected"}
                for e in refused
            ],
        }


def test_a_record_that_is_no_valid_event_is_set_aside_whole_and_the_shard_goes_on(
    api, tenant, subscriber, streams, worker
):
    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url)
    accept(status_event("s1", n=1))
    put_raw_event("s1", "broken#1", receivedAt="2026-01-01T00:00:00.000Z", tenantId="t-x")
    accept(message_event("s1", n=2))
    streams.pump()  # one pass: nothing waits for a retry
    worker.drain()
    assert sorted(delivered_events(subscriber)) == ["message.received", "session.status"]
    [aside] = failure_messages(catalog.DISPATCHER_FAILURES)
    assert aside["function"] == "dispatcher" and aside["reason"].startswith("ValidationError")
    assert ddb.from_item(aside["record"]["dynamodb"]["NewImage"]) == {
        "sessionKey": "t-x#s1",
        "sessionId": "s1",
        "eventKey": "broken#1",
        "receivedAt": "2026-01-01T00:00:00.000Z",
        "tenantId": "t-x",
    }
    assert aside["keys"] == {"sessionKey": {"S": "t-x#s1"}, "eventKey": {"S": "broken#1"}}
    assert failure_messages(catalog.AGGREGATOR_FAILURES) == [] and dead_letters() == []


@pytest.mark.parametrize("whole_request", [False, True], ids=["entry refused", "request refused"])
def test_deliveries_sqs_refuses_are_set_aside_then_replayed_once_after_stream_and_dedupe_expired(
    api, tenant, subscriber, streams, worker, monkeypatch, whole_request
):
    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url)
    monkeypatch.setattr(queue, "client", lambda real=queue.client(): RefusingSqs(real, "poison-text", whole_request))  # noqa: B008 - the real client, taken once
    accept(text_event("s1", 1, "poison-text"))
    accept(message_event("s1", n=2))
    streams.pump()
    worker.drain()
    assert [b["data"]["body"] for b in subscriber.bodies()] == ["hi"]  # the next record was not held up
    [aside] = failure_messages(catalog.DISPATCHER_FAILURES)
    assert aside["reason"].startswith("Unsendable") and "InvalidMessageContents" in aside["reason"]
    assert len(aside["webhookIds"]) == 1

    # The cause is fixed; the stream and the event's dedupe record are gone: the set-aside record is all there is.
    monkeypatch.undo()
    events_table = settings.table_name(catalog.EVENTS)
    for item in ddb.client().scan(TableName=events_table)["Items"]:
        ddb.client().delete_item(
            TableName=events_table, Key={"sessionKey": item["sessionKey"], "eventKey": item["eventKey"]}
        )
    streams.pump()
    url = settings.env(catalog.DISPATCHER_FAILURES.env_var)
    queue.client().send_message(QueueUrl=url, MessageBody=json.dumps(aside))  # set aside twice (a retried batch)

    assert invoke("dispatcher", {"replay": {"maxMessages": 10}}) == {"replayed": 2, "failed": []}
    worker.drain()
    assert invoke("dispatcher", {"replay": {}}) == {"replayed": 0, "failed": []}
    worker.drain()
    assert sorted(b["data"]["body"] for b in subscriber.bodies()) == ["hi", "poison-text"]
    assert sorted((entry["status"], entry["attempts"]) for entry in logs(api, key)) == [("success", 1), ("success", 1)]
    assert held(catalog.DISPATCHER_FAILURES) == 0


def test_a_replay_that_fails_again_keeps_the_record_and_says_why(aws):
    """Lambda's on-failure record of a batch the stream no longer holds: nothing to replay it from."""
    from local import streams

    url = settings.env(catalog.DISPATCHER_FAILURES.env_var)
    function = catalog.function("dispatcher")
    poller = streams.StreamPoller(function, function.stream_triggers[0], Capturing(), streams.Clients.create())
    shard = streams.Clients.create().streams.describe_stream(StreamArn=poller.stream_arn)["StreamDescription"][
        "Shards"
    ][0]
    first = shard["SequenceNumberRange"]["StartingSequenceNumber"]
    on_failure = {
        "requestContext": {"condition": "RetryAttemptsExhausted"},
        "DDBStreamBatchInfo": {
            "shardId": shard["ShardId"],
            "streamArn": poller.stream_arn,
            "startSequenceNumber": first,
            "endSequenceNumber": first,
        },
    }
    queue.client().send_message(QueueUrl=url, MessageBody=json.dumps(on_failure))
    report = invoke("dispatcher", {"replay": {}})
    assert report["replayed"] == 0
    [failed] = report["failed"]
    assert "on-failure record" in failed["reason"] and "no longer holds" in failed["reason"]
    assert held(catalog.DISPATCHER_FAILURES) == 1


def test_a_transient_refusal_mid_batch_retries_from_that_record_and_not_before_it(
    api, tenant, subscriber, worker, monkeypatch
):
    from local import streams
    from local.runtime import Invoker

    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url)
    real = queue.client()
    calls = {"n": 0}

    class SecondEntryFailsOnce:
        """SQS failing one entry of a batch on its side (SenderFault false), once."""

        def __getattr__(self, name):
            return getattr(real, name)

        def send_message_batch(self, QueueUrl, Entries):
            calls["n"] += 1
            if calls["n"] > 1:
                return real.send_message_batch(QueueUrl=QueueUrl, Entries=Entries)
            response = real.send_message_batch(QueueUrl=QueueUrl, Entries=Entries[:1] + Entries[2:])
            return {
                "Successful": response["Successful"],
                "Failed": [
                    {"Id": Entries[1]["Id"], "SenderFault": False, "Code": "InternalError", "Message": "injected"}
                ],
            }

    monkeypatch.setattr(queue, "client", lambda: SecondEntryFailsOnce())
    dispatcher = next(p for p in streams.pollers(Invoker()) if p.function.name == "dispatcher")
    for n in range(3):
        accept(message_event("s1", n=n))
    assert dispatcher.poll_once() == 1  # the first record is done; Lambda retries from the second
    assert dispatcher.poll_once() == 2
    monkeypatch.undo()
    worker.drain()
    delivered = [b["data"]["messageId"] for b in subscriber.bodies()]
    # The record before the failure is never sent again; the ones from it on are sent (the third, accepted in the
    # failing request, is sent again with the retry: at least once, the same webhook id for the subscriber to drop).
    assert delivered.count("m-0") == 1 and {"m-1", "m-2"} <= set(delivered)
    assert held(catalog.DISPATCHER_FAILURES) == 0


class Capturing:
    """An invoker that records the events an event source mapping builds, without running the function."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def invoke(self, function_name: str, event: dict[str, Any]) -> None:
        self.events.append(event)


def events_stream_batch() -> dict[str, Any]:
    """The aggregator's batch of everything in the Events stream, as Lambda would build it."""
    from local import streams

    function = catalog.function("aggregator")
    trigger = next(t for t in function.stream_triggers if t.table == catalog.EVENTS.id)
    capturing = Capturing()
    streams.StreamPoller(function, trigger, capturing, streams.Clients.create()).poll_once()
    [event] = capturing.events
    return event


def test_a_batch_lambda_retries_hours_later_counts_each_record_once(api, tenant, subscriber, streams):
    key = tenant["apiKey"]
    subscribe(api, key, "s1", subscriber.url)
    for n in range(3):
        accept(message_event("s1", n=n))
    streams.pump()

    def received() -> int:
        return api.call("GET", "/api/usage?days=1", api_key=key).data["totals"]["eventsReceived"]

    assert received() == 3
    batch = events_stream_batch()["Records"]
    # Retried long after any request token expired, as Lambda retries a stream batch: from the record it stopped
    # at, whole, cut short, or with the records that arrived since.
    for records in (batch, batch[:2], batch[:1]):
        assert invoke("aggregator", {"Records": records}) == {"batchItemFailures": []}
    assert received() == 3
    for n in range(3, 5):
        accept(message_event("s1", n=n))
    extended = events_stream_batch()["Records"]
    assert extended[:3] == batch and len(extended) == 5
    assert invoke("aggregator", {"Records": extended}) == {"batchItemFailures": []}
    assert received() == 5
    streams.pump()  # the hub's own aggregator, behind: nothing twice either
    assert received() == 5


def test_a_record_the_aggregator_cannot_count_is_set_aside_and_the_others_count(api, tenant, streams):
    key = tenant["apiKey"]
    api.create_session(key, sessionId="s1")
    ddb.client().put_item(
        TableName=settings.table_name(catalog.SESSIONS),
        Item=ddb.to_item({"sessionKey": "t-x#broken", "sessionId": "broken", "tenantId": "t-x", "status": "ready"}),
    )  # no bucket
    api.create_session(key, sessionId="s2")
    streams.pump()
    summary = api.call("GET", "/api/whatsapp/session/list-realtime", api_key=key).json["summary"]
    assert summary["total"] == 2
    [aside] = failure_messages(catalog.AGGREGATOR_FAILURES)
    assert aside["function"] == "aggregator" and aside["reason"].startswith("KeyError")
    assert ddb.from_item(aside["record"]["dynamodb"]["NewImage"])["sessionId"] == "broken"
    # Replayed before its cause is fixed: it fails again and stays.
    report = invoke("aggregator", {"replay": {}})
    assert report["replayed"] == 0 and report["failed"][0]["reason"].startswith("KeyError")
    assert held(catalog.AGGREGATOR_FAILURES) == 1


def test_a_replayed_aggregator_record_counts_once(aws):
    from hub.platform.stream_reader import lambda_record

    stream_arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/{settings.table_name(catalog.EVENTS)}/stream/x"
    image = {"sessionId": "s1", "eventKey": "k1", "tenantId": "t1", "receivedAt": "2026-01-02T10:00:00.000Z"}
    record = lambda_record(
        {
            "eventID": "e-1",
            "eventName": "INSERT",
            "dynamodb": {"SequenceNumber": "100", "NewImage": ddb.to_item(image)},
        },
        stream_arn,
    )
    body = json.dumps(
        {"function": "aggregator", "reason": "KeyError: 'x'", "setAsideAt": "2026-01-02T10:00:00Z", "record": record}
    )
    url = settings.env(catalog.AGGREGATOR_FAILURES.env_var)
    queue.client().send_message(QueueUrl=url, MessageBody=body)
    assert invoke("aggregator", {"Records": [record]}) == {"batchItemFailures": []}  # Lambda got it through after all
    queue.client().send_message(QueueUrl=url, MessageBody=body)
    assert invoke("aggregator", {"replay": {}}) == {"replayed": 2, "failed": []}
    [usage] = counters.read_usage("t1", "2026-01-02", "2026-01-02")
    assert usage["eventsReceived"] == 1


def test_transactions_group_records_with_their_counters_within_dynamodbs_limit():
    changes = [
        (f"e-{n}", str(n), {(counters.tenant_pk("t1"), f"usage#day{n:03d}"): {"eventsReceived": 1}}) for n in range(150)
    ]
    groups = counters.chunks(changes)
    assert [len(g) for g in groups] == [99, 51]  # 99 counter items and the group's marker: 100 items a transaction
    assert [c for g in groups for c in g] == changes
    assert counters.chunks(changes[:120])[0] == groups[0]  # the same start, the same first group
    shared = [
        (f"e-{n}", str(n), {(counters.tenant_pk("t1"), "usage#day001"): {"eventsReceived": 1}}) for n in range(150)
    ]
    assert [len(g) for g in counters.chunks(shared)] == [150]
    with pytest.raises(ValueError):
        counters.chunks([("e-big", "1", {(counters.tenant_pk("t1"), f"k{n}"): {"x": 1} for n in range(100)})])


def test_set_aside_bodies_are_ascii_whatever_the_images_hold():
    from hub.platform.stream_failures import SetAside, body_of

    aside = SetAside(
        function="dispatcher",
        reason="x",
        setAsideAt=datetime.now(UTC).isoformat(),
        record={"dynamodb": {"NewImage": {"text": {"S": "\ufffe\uffff \ud83d emoji \U0001f600"}}}},
    )
    body = body_of(aside)
    assert body.isascii()
    assert json.loads(body)["record"]["dynamodb"]["NewImage"]["text"]["S"] == "\ufffe\uffff \ud83d emoji \U0001f600"
