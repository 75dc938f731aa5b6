"""Delivery fixtures: a session subscribed to a real local HTTP subscriber, and the queue drained
the way Lambda's SQS poller would (through local.poller)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from werkzeug import Request, Response

from hub.delivery import queue
from hub.ingest.models import Lifecycle, NormalizedEvent, SessionStatus
from hub.platform import catalog


@dataclass
class Subscriber:
    """Records what it receives; `behaviour(n, request)` answers the n-th request (1-based)."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    behaviour: Callable[[int, Request], Response] = lambda n, request: Response("ok", status=200)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: Request) -> Response:
        with self.lock:
            self.received.append(
                {"headers": dict(request.headers), "body": request.get_data(), "query": request.query_string.decode()}
            )
            number = len(self.received)
        response = self.behaviour(number, request)
        with self.lock:
            self.received[number - 1]["status"] = response.status_code
        return response

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.received]

    def delivered_ids(self) -> set[str]:
        """Event ids the subscriber answered with a 2xx."""
        return {json.loads(r["body"])["id"] for r in self.received if 200 <= r.get("status", 0) < 300}


@pytest.fixture
def subscriber(httpserver) -> Subscriber:
    target = Subscriber(url=httpserver.url_for("/hook"))
    httpserver.expect_request("/hook", method="POST").respond_with_handler(target.handle)
    return target


def status_event(
    session_id: str, status: SessionStatus = SessionStatus.SESSION_CONNECTED, n: int = 0
) -> NormalizedEvent:
    return NormalizedEvent(
        type="session.status",
        session_id=session_id,
        dialect="wwebjs",
        source_event="ready",
        gateway_event_id=f"g-{n}",
        lifecycle=Lifecycle(status=status, phone_number="628100"),
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC).replace(second=n % 60, minute=n // 60),
    )


def message_event(session_id: str, n: int = 0) -> NormalizedEvent:
    return NormalizedEvent(
        type="message.received",
        session_id=session_id,
        dialect="wwebjs",
        source_event="message",
        gateway_event_id=f"m-{n}",
        data={"messageId": f"m-{n}", "body": "hi"},
    )


def accept(event: NormalizedEvent):
    """Hands an event to the receiving domain as the receiver handler does."""
    from hub.ingest import receiving
    from hub.platform import ddb
    from hub.sessions import store as sessions

    # these tests give each session id to one tenant: find it without knowing which
    [item] = ddb.client().scan(
        TableName=ddb.name(sessions.TABLE),
        FilterExpression="sessionId = :s",
        ExpressionAttributeValues=ddb.values(s=event.session_id),
    )["Items"]
    record = sessions.from_values(ddb.from_item(item))
    return receiving.receive(record, event, event.model_dump_json().encode(), datetime.now(UTC))


class Clock:
    """Time as the embedded SQS and the delivery worker see it, which a test can move forward.

    `skip_to_next_visible()` jumps to the moment the next hidden delivery message becomes
    visible, so a retry schedule of hours runs in moments, with SQS's limits (local.sqs_limits)
    applied at the times the schedule really reaches.
    """

    def __init__(self, monkeypatch) -> None:
        from moto.sqs import models

        from hub.delivery import worker as delivering

        self.offset_s = 0.0
        real_ms, real_s, real_now = models.unix_time_millis, models.unix_time, delivering.now
        monkeypatch.setattr(
            models, "unix_time_millis", lambda dt=None: real_ms(dt) + (0 if dt else self.offset_s * 1000)
        )
        monkeypatch.setattr(models, "unix_time", lambda dt=None: real_s(dt) + (0 if dt else self.offset_s))
        monkeypatch.setattr(delivering, "now", lambda: real_now() + timedelta(seconds=self.offset_s))
        self._models = models

    def advance(self, seconds: float) -> None:
        self.offset_s += seconds

    def delivery_messages(self) -> list:
        """The delivery queue's messages as the embedded SQS holds them."""
        from moto.core import DEFAULT_ACCOUNT_ID

        from local.resources import REGION

        name = queue.queue_url().rsplit("/", 1)[-1]
        return list(self._models.sqs_backends[DEFAULT_ACCOUNT_ID][REGION].get_queue(name)._messages)

    def skip_to_next_visible(self) -> bool:
        """Moves time to when the next hidden delivery message shows again; False when none is hidden."""
        shows_at = [max(m.visible_at, m.delayed_until) for m in self.delivery_messages()]
        if not shows_at:
            return False
        self.advance(max(0.0, (min(shows_at) - self._models.unix_time_millis()) / 1000) + 0.01)
        return True


class Worker:
    """Plays Lambda's SQS poller for the delivery worker (local.poller, no wait), with the streams
    pumped around each poll (the dispatcher queues what was accepted, the aggregator counts).
    While every message is hidden, `drain` moves the clock to the next one instead of waiting."""

    def __init__(self, streams, clock: Clock) -> None:
        self.streams = streams
        self.clock = clock
        from local.poller import SqsPoller
        from local.runtime import Invoker

        function = next(f for f in catalog.FUNCTIONS if f.sqs_trigger == catalog.DELIVERY_QUEUE.id)
        self.poller = SqsPoller(function, Invoker(), queue.queue_url(), sqs=queue.client(), wait_s=0)

    def poll_once(self) -> int:
        """One receive / invoke / delete cycle of the worker, with the streams pumped before and after."""
        self.streams.pump()
        received = self.poller.poll_once()
        self.streams.pump()
        return received

    def drain(self, until: Callable[[], bool] = lambda: False, timeout_s: float = 15.0) -> None:
        """Polls until the queue is empty and nothing is in flight, or `until()` holds."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            received = self.poll_once()
            if until():
                return
            if not received:
                attributes = queue.client().get_queue_attributes(
                    QueueUrl=queue.queue_url(),
                    AttributeNames=[
                        "ApproximateNumberOfMessagesNotVisible",
                        "ApproximateNumberOfMessages",
                        "ApproximateNumberOfMessagesDelayed",
                    ],
                )["Attributes"]
                if (
                    attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
                    and attributes["ApproximateNumberOfMessages"] == "0"
                    and attributes.get("ApproximateNumberOfMessagesDelayed", "0") == "0"
                ):
                    return
                self.clock.skip_to_next_visible()
        raise AssertionError("delivery queue did not drain in time")


@pytest.fixture
def clock(aws, monkeypatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def worker(streams, clock) -> Worker:
    return Worker(streams, clock)


def dead_letters() -> list[str]:
    messages = (
        queue.client().receive_message(QueueUrl=queue.dead_letter_url(), MaxNumberOfMessages=10).get("Messages", [])
    )
    return [m["Body"] for m in messages]
