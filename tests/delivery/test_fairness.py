"""Fair delivery: an endpoint that keeps timing out trips its breaker (hub.delivery.fairness), so it stops
holding the workers, while other tenants' deliveries go on; nothing is lost meanwhile."""

from __future__ import annotations

import time

import pytest

from hub.delivery import endpoints_store as endpoints
from hub.delivery import fairness, queue
from hub.delivery.models import DeliveryLog
from hub.delivery.sender import AttemptResult
from hub.delivery.subscriptions import RetryPolicy, Target
from hub.platform import catalog, settings
from local.harness import Subscriber
from tests.delivery.conftest import accept, message_event
from tests.delivery.test_delivery import logs, subscribe

NOW = 1_800_000_000


def delivery(
    tenant_id: str = "t1", url: str = "https://hooks.example.com/a", attempts: int = 0, retries: int | None = None
) -> DeliveryLog:
    return DeliveryLog(
        webhookId="wh_1",
        tenantId=tenant_id,
        instanceId="s1",
        eventId="evt_1",
        event="message.received",
        payload="{}",
        target=Target(subscriptionId="sub_1", url=url, retry=RetryPolicy(attempts=retries)),
        attempts=attempts,
        createdAt="2026-01-01T00:00:00.000Z",
        updatedAt="2026-01-01T00:00:00.000Z",
        expiresAt=NOW,
    )


TIMED_OUT = AttemptResult(False, None, 10_000, "timeout after 10000 ms", None, timed_out=True)
ANSWERED = AttemptResult(True, 200, 5, None, "ok")


def strike_at(now: int, monkeypatch) -> None:
    """Strikes are counted when they happen: make that `now`."""
    monkeypatch.setattr(fairness.time, "time", lambda: now)


@pytest.fixture
def time_out(monkeypatch):
    def time_out(log: DeliveryLog, now: int = NOW) -> None:
        strike_at(now, monkeypatch)
        fairness.attempt(log, fairness.admit(log, 1, now), lambda timeout_ms: TIMED_OUT)

    return time_out


def test_a_healthy_endpoint_is_sent_with_the_full_timeout_and_writes_nothing(aws):
    gate = fairness.admit(delivery(), 1, NOW)
    assert (gate.defer_s, gate.timeout_ms, gate.probe) == (None, None, False)
    assert fairness.attempt(delivery(), gate, lambda timeout_ms: ANSWERED) is ANSWERED
    assert endpoints.get(fairness.endpoint_key(delivery())) == endpoints.CLOSED


def test_timeouts_trip_the_breaker_and_its_deliveries_are_deferred_until_it_half_opens(aws, time_out):
    log = delivery()
    for n in range(fairness.TRIP_AFTER):
        assert fairness.admit(log, 1, NOW + n).defer_s is None
        time_out(log, NOW + n)
    opened_at = NOW + fairness.TRIP_AFTER - 1
    gate = fairness.admit(log, 1, opened_at + 10)
    assert gate.defer_s == fairness.OPEN_S - 10
    fairness.clear_cache()  # another worker instance sees the same breaker
    assert fairness.admit(log, 1, opened_at + 10).defer_s == fairness.OPEN_S - 10


def test_timeouts_further_apart_than_the_window_do_not_trip_it(aws, time_out):
    log = delivery()
    for n in range(fairness.TRIP_AFTER):
        time_out(log, NOW + n * (fairness.WINDOW_S + 1))
    assert fairness.admit(log, 1, NOW + fairness.TRIP_AFTER * (fairness.WINDOW_S + 1)).defer_s is None


def half_open_probe(log: DeliveryLog, time_out) -> tuple[int, fairness.Gate]:
    """Trips the breaker at NOW; (the time it half-opens, the probe a worker wins then)."""
    for _ in range(fairness.TRIP_AFTER):
        time_out(log)
    later = NOW + fairness.OPEN_S
    return later, fairness.admit(log, 1, later)


def test_one_worker_probes_when_it_half_opens_and_an_answer_closes_it(aws, time_out):
    log = delivery()
    later, probe = half_open_probe(log, time_out)
    assert probe.probe and probe.defer_s is None and probe.timeout_ms is None
    fairness.clear_cache()
    assert fairness.admit(log, 1, later).defer_s == fairness.OPEN_S  # the others wait for the probe
    fairness.attempt(log, probe, lambda timeout_ms: ANSWERED)
    fairness.clear_cache()
    assert fairness.admit(log, 1, later + 1) == fairness.Gate(endpoints.CLOSED)


def test_a_probe_that_times_out_keeps_it_open(aws, time_out):
    log = delivery()
    later, probe = half_open_probe(log, time_out)
    assert probe.probe
    fairness.attempt(log, probe, lambda timeout_ms: TIMED_OUT)
    assert fairness.admit(log, 1, later + 1).defer_s == fairness.OPEN_S - 1


def test_without_receives_to_spare_a_delivery_is_sent_with_the_short_timeout(aws, time_out):
    """Deferring spends an SQS receive: when the remaining attempts need every receive left before
    SQS redrives the message, the delivery is sent (briefly) so its retries end in the log as usual."""
    log = delivery(retries=3)
    for _ in range(fairness.TRIP_AFTER):
        time_out(log)
    last_deferrable = catalog.DELIVERY_QUEUE.max_receive_count - (3 + 1) - 1
    assert fairness.admit(log, last_deferrable, NOW + 1).defer_s is not None
    gate = fairness.admit(log, last_deferrable + 1, NOW + 1)
    assert (gate.defer_s, gate.timeout_ms) == (None, fairness.OPEN_TIMEOUT_MS)


def test_breakers_are_per_tenant_and_per_origin(aws, time_out):
    hanging = delivery()
    for _ in range(fairness.TRIP_AFTER):
        time_out(hanging)
    assert fairness.admit(hanging, 1, NOW + 1).defer_s is not None
    assert fairness.admit(delivery(url="https://hooks.example.com/b?x=1"), 1, NOW + 1).defer_s is not None
    assert fairness.admit(delivery(tenant_id="t2"), 1, NOW + 1).defer_s is None
    assert fairness.admit(delivery(url="https://hooks.example.com:8443/a"), 1, NOW + 1).defer_s is None
    assert fairness.admit(delivery(url="https://other.example.com/a"), 1, NOW + 1).defer_s is None


def test_an_attempt_still_running_at_half_its_timeout_is_a_strike_while_in_flight(aws, monkeypatch):
    """The strike is counted while the attempt hangs, not when its timeout comes back."""
    monkeypatch.setenv("WEBHOOK_TIMEOUT_MS", "400")
    settings.load.cache_clear()
    log = delivery()
    key = fairness.endpoint_key(log)
    seen_in_flight = []

    def slow_send(timeout_ms):
        time.sleep(0.4)
        seen_in_flight.append(endpoints.get(key).strikes)
        return ANSWERED

    assert fairness.attempt(log, fairness.admit(log, 1, NOW), slow_send) is ANSWERED
    assert seen_in_flight == [1] and endpoints.get(key).strikes == 1
    fairness.attempt(log, fairness.admit(log, 1, NOW), lambda timeout_ms: ANSWERED)
    assert endpoints.get(key).strikes == 1  # a quick answer is no strike
    settings.load.cache_clear()


def test_a_breaker_table_error_lets_deliveries_through(aws, monkeypatch):
    def unavailable(key):
        from botocore.exceptions import EndpointConnectionError

        raise EndpointConnectionError(endpoint_url="https://dynamodb")

    monkeypatch.setattr(endpoints, "get", unavailable)
    assert fairness.admit(delivery(), 1, NOW) == fairness.Gate()


@pytest.fixture
def short_timeouts(monkeypatch):
    monkeypatch.setenv("WEBHOOK_TIMEOUT_MS", "2000")
    monkeypatch.setattr(fairness, "OPEN_S", 5)
    settings.load.cache_clear()
    yield
    settings.load.cache_clear()


@pytest.fixture
def hanging():
    server = Subscriber(delay_s=3.0).start()
    yield server
    server.close()


def test_a_hanging_subscriber_stops_holding_the_worker_and_other_tenants_flow(
    api, subscriber, hanging, worker, short_timeouts
):
    """Tenant A's subscriber hangs past the timeout: after TRIP_AFTER timeouts its deliveries are no
    longer sent (a worker batch no longer waits for them), tenant B's are delivered at once, and A's
    are delivered once its subscriber answers again."""
    key_a, key_b = api.create_tenant("a")["apiKey"], api.create_tenant("b")["apiKey"]
    subscribe(api, key_a, "sa", hanging.url, retry={"attempts": 5, "delayMs": 1000})
    subscribe(api, key_b, "sb", subscriber.url)

    for n in range(fairness.TRIP_AFTER):
        accept(message_event("sa", n))
    worker.poll_once()
    assert [log["error"] for log in logs(api, key_a)] == ["timeout after 2000 ms"] * fairness.TRIP_AFTER

    accept(message_event("sa", 10))
    accept(message_event("sb", 11))
    sent_to_a = hanging.received
    worker.poll_once()
    # Nothing was sent to A's subscriber, so the batch cannot have waited for it (no wall-clock bound: a
    # loaded machine makes any such bound flaky, and the request count says the same thing exactly).
    assert len(subscriber.received) == 1 and hanging.received == sent_to_a
    assert [log["status"] for log in logs(api, key_b)] == ["success"]
    assert len(logs(api, key_a)) == fairness.TRIP_AFTER  # A's new delivery: not sent, no attempt logged yet

    hanging.delay_s = 0.0
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and [log["status"] for log in logs(api, key_a)] != ["success"] * 3:
        worker.poll_once()
        time.sleep(0.2)
    assert [log["status"] for log in logs(api, key_a)] == ["success"] * 3
    assert (
        int(
            queue.client().get_queue_attributes(
                QueueUrl=queue.queue_url(), AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]["ApproximateNumberOfMessages"]
        )
        == 0
    )
