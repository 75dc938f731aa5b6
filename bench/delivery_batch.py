"""delivery_batch10_slow_subscriber_ms and delivery_sequential_ms.

A session subscribed to a local subscriber (threaded HTTP/1.1 server on 127.0.0.1) that takes DELAY_MS per
request. Ten message events go through the receiver (API Gateway events) and the dispatcher (their Events
stream records), which queues ten deliveries. Then:
- batch: the ten SQS messages, received as Lambda's poller would, are handed to the delivery worker
  handler in one SQS event; the figure is the wall time of that invocation (signing, sending, recording);
- sequential: ten fresh deliveries, each handed to `hub.delivery.worker.process` one after the other (what a
  worker without concurrency would do); the figure is the total wall time.
Medians of RUNS runs each; every run checks that the subscriber got all ten and nothing failed.
"""

from __future__ import annotations

import time
from typing import Any

from bench import harness as h

NAME = "delivery"
DELAY_MS = 100
BATCH = 10
RUNS = 5
TARGET_MS = 300.0


def _queue_ten(api: h.Api, session: dict[str, Any], first: int) -> None:
    for n in range(first, first + BATCH):
        h.post_event(api, session, h.message_body(n))


def _sequential(poller: h.WorkerPoller, messages: list[dict[str, Any]]) -> float:
    from hub.delivery import worker as delivering

    started = time.perf_counter()
    with h.quiet():
        outcomes = [delivering.process(m["Body"], m["ReceiptHandle"], 1) for m in messages]
    elapsed = (time.perf_counter() - started) * 1000
    if any(o is not delivering.Outcome.DELIVERED for o in outcomes):
        raise RuntimeError(f"sequential deliveries did not all succeed: {outcomes}")
    poller.sqs.delete_message_batch(
        QueueUrl=poller.url,
        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
    )
    return elapsed


def measure(delay_ms: int = DELAY_MS, runs: int = RUNS) -> dict[str, Any]:
    batch_ms, sequential_ms = [], []
    with h.embedded_aws():
        api = h.Api()
        h.silence_powertools_logs()
        tenant = api.create_tenant()
        with h.Subscriber(delay_s=delay_ms / 1000) as subscriber:
            session = api.create_session(tenant["apiKey"], "bench-delivery", webhook_url=subscriber.url)
            poller = h.WorkerPoller(api)
            dispatcher = h.StreamPump(api, "dispatcher")
            for run in range(runs + 1):  # run 0 warms up (handler import, connection pool)
                _queue_ten(api, session, first=run * 1000)
                dispatcher.drain()
                before = subscriber.received
                _, elapsed = poller.invoke(poller.receive(BATCH))
                if subscriber.received - before != BATCH:
                    raise RuntimeError(f"the subscriber got {subscriber.received - before} of {BATCH} deliveries")
                if run:
                    batch_ms.append(elapsed)
                _queue_ten(api, session, first=run * 1000 + 500)
                dispatcher.drain()
                before = subscriber.received
                elapsed = _sequential(poller, poller.receive(BATCH))
                if subscriber.received - before != BATCH:
                    raise RuntimeError(f"the subscriber got {subscriber.received - before} of {BATCH} deliveries")
                if run:
                    sequential_ms.append(elapsed)
    return {
        "delivery_batch10_slow_subscriber_ms": h.rounded(h.median(batch_ms), 1),
        "delivery_sequential_ms": h.rounded(h.median(sequential_ms), 1),
        "delivery_subscriber_delay_ms": float(delay_ms),
    }


def run(results: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    print(
        f"delivery (worker handler, one SQS batch of {BATCH} to a local subscriber taking {DELAY_MS} ms per request; "
        f"median of {RUNS})"
    )
    measured = measure()
    value = measured["delivery_batch10_slow_subscriber_ms"]
    ok = value <= TARGET_MS
    h.show_target("delivery_batch10_slow_subscriber_ms", value, f"<= {TARGET_MS:g} ms", ok, "ms")
    h.show(
        "delivery_sequential_ms (baseline)",
        measured["delivery_sequential_ms"],
        "ms",
        f"({measured['delivery_sequential_ms'] / value:.1f}x the batch)",
    )
    return measured, [{"name": "delivery_batch10_slow_subscriber_ms", "value": value, "limit": TARGET_MS, "pass": ok}]
