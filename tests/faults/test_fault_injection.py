"""Fault injection: AWS failing during receipt, workers dying mid-batch, misbehaving subscribers."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import socket
import threading
import time

import pytest
from botocore.exceptions import ClientError
from werkzeug import Response

from hub.delivery import queue
from hub.delivery import worker as delivering
from hub.platform import catalog, ddb, settings
from tests.delivery.conftest import accept, dead_letters, status_event


def aws_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)


class FailingClient:
    """Wraps a boto3 client; the named operation fails `times` times, then works."""

    def __init__(self, real, operation: str, code: str, times: int = 1):
        self._real, self._operation, self._code, self.remaining = real, operation, code, times

    def __getattr__(self, name):
        attribute = getattr(self._real, name)
        if name == self._operation and self.remaining > 0:

            def failing(*args, **kwargs):
                self.remaining -= 1
                raise aws_error(self._code, name)

            return failing
        return attribute


def post_signed(api, session, body):
    raw = json.dumps(body).encode()
    signature = hmac.new(session["inboundSecret"].encode(), raw, hashlib.sha256).hexdigest()
    return api.call(
        "POST",
        f"/api/whatsapp/webhook/{session['receiverHandle']}",
        raw=raw,
        headers={"Content-Type": "application/json", "X-Webhook-Signature": signature},
    )


@pytest.fixture
def session(api, tenant, subscriber):
    created = api.create_session(tenant["apiKey"], sessionId="wa-1", webhookUrl=subscriber.url)
    return {**created, "apiKey": tenant["apiKey"]}


@pytest.mark.parametrize(
    "code", ["ThrottlingException", "ProvisionedThroughputExceededException", "InternalServerError"]
)
def test_storage_failure_recording_the_event_is_a_retryable_5xx_and_the_retry_applies_once(
    api, session, subscriber, worker, monkeypatch, code
):
    failing = FailingClient(ddb.client(), "put_item", code)
    monkeypatch.setattr(ddb, "client", lambda: failing)
    body = {"event": "ready", "data": {}, "timestamp": 1735732800}
    first = post_signed(api, session, body)
    assert (first.status, first.error_code) == (503, "UNAVAILABLE")
    monkeypatch.undo()
    status = api.call("GET", "/api/whatsapp/session/status/wa-1", api_key=session["apiKey"]).data
    assert status["status"] == "initializing"
    worker.drain()
    assert subscriber.received == []
    retried = post_signed(api, session, body)
    assert retried.status == 200 and retried.data["duplicate"] is False
    assert post_signed(api, session, body).data["duplicate"] is True
    worker.drain()
    assert len(subscriber.received) == 1


def test_storage_failure_writing_the_session_is_a_5xx_and_the_retry_applies_the_recorded_event(
    api, session, subscriber, worker, monkeypatch
):
    failing = FailingClient(ddb.client(), "update_item", "ThrottlingException")
    monkeypatch.setattr(ddb, "client", lambda: failing)
    body = {"event": "ready", "data": {}}
    first = post_signed(api, session, body)
    assert (first.status, first.error_code) == (503, "UNAVAILABLE")
    monkeypatch.undo()
    status = api.call("GET", "/api/whatsapp/session/status/wa-1", api_key=session["apiKey"]).data
    assert status["status"] == "initializing"
    retried = post_signed(api, session, body)
    assert retried.status == 200 and retried.data["duplicate"] is True
    status = api.call("GET", "/api/whatsapp/session/status/wa-1", api_key=session["apiKey"]).data
    assert status["status"] == "session_connected"
    worker.drain()
    assert len(subscriber.received) == 1
    summary = api.call("GET", "/api/whatsapp/session/list-realtime", api_key=session["apiKey"]).json["summary"]
    assert (summary["connected"], summary["total"]) == (1, 1)
    assert post_signed(api, session, {"event": "disconnected", "data": {"reason": "NAVIGATION"}}).status == 200
    reconnect = post_signed(api, session, body)  # the session moved on: the same body is a real reconnect
    assert reconnect.data["duplicate"] is False and reconnect.data["eventId"] != retried.data["eventId"]
    status = api.call("GET", "/api/whatsapp/session/status/wa-1", api_key=session["apiKey"]).data
    assert status["status"] == "session_connected"


def test_queue_failure_in_the_dispatcher_retries_the_batch_until_sqs_takes_it(
    api, session, subscriber, worker, monkeypatch
):
    from local import streams
    from local.runtime import Invoker

    failing = FailingClient(queue.client(), "send_message_batch", "InternalError", times=2)
    monkeypatch.setattr(queue, "client", lambda: failing)
    dispatcher = next(p for p in streams.pollers(Invoker()) if p.function.name == "dispatcher")
    accept(status_event("wa-1"))
    assert dispatcher.poll_once() == 0
    assert dispatcher.poll_once() == 0
    assert dispatcher.poll_once() == 1
    monkeypatch.undo()
    worker.drain()
    assert len(subscriber.received) == 1
    [log] = api.call("GET", "/api/webhook/logs", api_key=session["apiKey"]).data
    assert (log["status"], log["attempts"]) == ("success", 1)


def test_a_dispatcher_batch_failing_past_the_record_age_limit_goes_to_the_dispatchers_failure_queue(
    api, session, subscriber, worker, monkeypatch
):
    """An outage outlasting the mapping's MaximumRecordAgeInSeconds: Lambda's on-failure record (metadata only)
    lands in the dispatcher's own failure queue, never in the delivery DLQ; retries are bounded by age, not count.
    Replayed while the stream still holds the records, the batch is delivered, once."""
    from local import streams
    from local.runtime import Invoker

    failing = FailingClient(queue.client(), "send_message_batch", "InternalError", times=1000)
    monkeypatch.setattr(queue, "client", lambda: failing)
    clock = {"now": time.time()}
    function = catalog.function("dispatcher")
    dispatcher = streams.StreamPoller(
        function, function.stream_triggers[0], Invoker(), streams.Clients.create(), now=lambda: clock["now"]
    )
    accept(status_event("wa-1"))
    for _ in range(30):  # more than any count would allow a fast-failing batch: the age decides
        assert dispatcher.poll_once() == 0
    clock["now"] += dispatcher.trigger.max_record_age_s + 1
    assert dispatcher.poll_once() == 1
    monkeypatch.undo()
    assert dead_letters() == []
    [record] = failure_queue_bodies(catalog.DISPATCHER_FAILURES)
    assert record["DDBStreamBatchInfo"]["batchSize"] == 1
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert subscriber.received == []

    from local.runtime import Invoker as Replaying

    queue.client().set_queue_attributes(
        QueueUrl=settings.env(catalog.DISPATCHER_FAILURES.env_var), Attributes={"VisibilityTimeout": "0"}
    )
    for _ in range(2):  # replayed twice: delivered once
        assert Replaying().invoke("dispatcher", {"replay": {}})["failed"] == []
        worker.drain()
    assert len(subscriber.received) == 1


def failure_queue_bodies(failures: catalog.FailureQueue) -> list[dict]:
    messages = queue.client().receive_message(QueueUrl=settings.env(failures.env_var), MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def short_visibility() -> None:
    """Lets a message a dead worker held come back after 1 s instead of the queue's default."""
    queue.client().set_queue_attributes(QueueUrl=queue.queue_url(), Attributes={"VisibilityTimeout": "1"})


def crashing_poller(crash):
    """A poller whose worker runs `crash(event, context)` instead of the real handler."""
    from local.poller import SqsPoller
    from local.runtime import Invoker

    function = catalog.function("delivery_worker")
    return SqsPoller(function, Invoker(resolver=lambda name: crash), queue.queue_url(), sqs=queue.client(), wait_s=0)


def test_worker_dying_after_sending_redelivers_once_and_logs_one_success(api, session, subscriber, worker, monkeypatch):
    from hub.delivery import store as delivery_store

    real_record = delivery_store.record_attempt
    calls = {"n": 0}

    def dies_once(before, after, stored):
        calls["n"] += 1
        if calls["n"] == 1:
            raise aws_error("InternalServerError", "UpdateItem")  # DynamoDB failing between sending and recording
        return real_record(before, after, stored)

    monkeypatch.setattr(delivery_store, "record_attempt", dies_once)
    short_visibility()
    accept(status_event("wa-1"))
    worker.poll_once()
    time.sleep(1.2)
    worker.drain()
    [log] = api.call("GET", "/api/webhook/logs", api_key=session["apiKey"]).data
    detail = api.call("GET", f"/api/webhook/logs/{log['webhookId']}", api_key=session["apiKey"]).data
    assert (detail["status"], detail["attempts"]) == ("success", 1)
    assert [a["ok"] for a in detail["attemptLog"]] == [True]
    assert len(subscriber.received) == 2
    assert {r["headers"]["X-Webhook-Attempt"] for r in subscriber.received} == {"1"}


def test_worker_dying_after_recording_does_not_send_again(api, session, subscriber, worker):
    from functions.delivery_worker.handler import handler

    def dies_after_work(event, context):
        handler(event, context)
        raise RuntimeError("worker killed before SQS could delete the batch")

    short_visibility()
    accept(status_event("wa-1"))
    crashing_poller(dies_after_work).poll_once()
    time.sleep(1.2)
    worker.drain()
    assert len(subscriber.received) == 1
    [log] = api.call("GET", "/api/webhook/logs", api_key=session["apiKey"]).data
    assert (log["status"], log["attempts"]) == ("success", 1)


class RawServer:
    """A TCP server on loopback that answers each connection with `reply(conn)`."""

    def __init__(self, reply):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.reply = reply
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn):
        try:
            conn.recv(65536)
            self.reply(conn, self.stop)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.stop.set()
        self.sock.close()


def reset_mid_response(conn, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def never_ending(conn, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    while not stop.is_set():
        conn.sendall(b"1\r\nx\r\n")
        time.sleep(0.05)


def huge_error_body(conn, stop):
    body = b"e" * (2 * 1024 * 1024)
    conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: %d\r\n\r\n" % len(body))
    with contextlib.suppress(OSError):
        conn.sendall(body)


def refused_url() -> str:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}/hook"


@pytest.mark.parametrize("fault", ["refused", "reset", "redirect", "gone", "huge", "never-ending"])
def test_misbehaving_subscribers_are_failed_attempts_retried_per_policy(
    api, tenant, worker, httpserver, monkeypatch, fault
):
    from hub.delivery import fairness

    monkeypatch.setenv("WEBHOOK_TIMEOUT_MS", "500")
    # The retry policy alone is under test: the endpoint breaker would defer the third attempt to a
    # subscriber that keeps timing out (tests/delivery/test_fairness.py covers that).
    monkeypatch.setattr(fairness, "TRIP_AFTER", 10**6)
    settings.load.cache_clear()
    server = None
    if fault == "refused":
        url = refused_url()
    elif fault in ("redirect", "gone"):
        status = 302 if fault == "redirect" else 410
        httpserver.expect_request("/hook").respond_with_response(
            Response("moved" if status == 302 else "gone", status=status, headers={"Location": "https://example.com/"})
        )
        url = httpserver.url_for("/hook")
    else:
        server = RawServer({"reset": reset_mid_response, "never-ending": never_ending, "huge": huge_error_body}[fault])
        url = server.url
    try:
        api.create_session(tenant["apiKey"], sessionId="wa-1")
        api.call(
            "PUT",
            "/api/instance/wa-1",
            body={"webhookUrl": url, "retry": {"attempts": 2, "delayMs": 1000}},
            api_key=tenant["apiKey"],
        )
        accept(status_event("wa-1"))
        started = time.monotonic()
        worker.drain(timeout_s=30)
        elapsed = time.monotonic() - started
    finally:
        if server:
            server.close()
        settings.load.cache_clear()
    [log] = api.call("GET", "/api/webhook/logs", api_key=tenant["apiKey"]).data
    detail = api.call("GET", f"/api/webhook/logs/{log['webhookId']}", api_key=tenant["apiKey"]).data
    assert (detail["status"], detail["attempts"]) == (
        "failed",
        1 if fault == "gone" else 3,
    )  # 410 Gone is never retried
    for attempt in detail["attemptLog"]:
        assert attempt["ok"] is False and attempt["error"]
        assert attempt["response"] is None or len(attempt["response"].encode()) <= 1024
    assert elapsed < 20
    assert len(dead_letters()) == 1


def test_a_worker_error_on_the_last_receive_marks_the_log_failed_before_redrive(api, session, monkeypatch):
    from hub.delivery import sender
    from hub.platform import catalog as hub_catalog

    accept(status_event("wa-1"))
    api.streams.pump()
    message = queue.client().receive_message(QueueUrl=queue.queue_url())["Messages"][0]

    def broken_post(*args, **kwargs):
        raise aws_error("ThrottlingException", "PutItem")

    monkeypatch.setattr(sender, "post", broken_post)
    last = hub_catalog.DELIVERY_QUEUE.max_receive_count
    expected_statuses = {1: [], 2: ["pending"], last: ["failed"]}
    for receive_count, expected in expected_statuses.items():
        with pytest.raises(ClientError):
            delivering.process(message["Body"], message["ReceiptHandle"], receive_count)
        logs = api.call("GET", "/api/webhook/logs", api_key=session["apiKey"]).data
        assert [log["status"] for log in logs] == expected
    assert "ClientError" in logs[0]["error"]


def test_a_first_attempt_that_never_recorded_is_stored_as_failed_on_the_last_receive(api, session, monkeypatch):
    from hub.delivery import sender
    from hub.platform import catalog as hub_catalog

    accept(status_event("wa-1"))
    api.streams.pump()
    message = queue.client().receive_message(QueueUrl=queue.queue_url())["Messages"][0]
    monkeypatch.setattr(
        delivering, "_current", lambda *args: (_ for _ in ()).throw(aws_error("InternalServerError", "GetItem"))
    )
    monkeypatch.setattr(sender, "post", lambda *args, **kwargs: pytest.fail("nothing may be sent"))
    with pytest.raises(ClientError):
        delivering.process(message["Body"], message["ReceiptHandle"], hub_catalog.DELIVERY_QUEUE.max_receive_count)
    [log] = api.call("GET", "/api/webhook/logs", api_key=session["apiKey"]).data
    assert (log["status"], log["attempts"]) == ("failed", 0)
