"""noisy_neighbour: tenant B's delivery latency while tenant A's subscriber hangs.

Two tenants, one session each, each subscribed to its own local subscriber (threaded HTTP/1.1 on
127.0.0.1). B's answers at once. A's answers at once too in the undisturbed run, and hangs (HANG_S,
past the hub's WEBHOOK_TIMEOUT_MS, set to TIMEOUT_MS for this figure) in the disturbed runs.

For LOAD_S seconds, one thread posts B_RATE message events per second from B's gateway and A_RATE
from A's, through the receiver handler (API Gateway events), draining the dispatcher (the Events
stream) after each. As many threads as the worker's maximum concurrency in the catalog (20) play
Lambda's SQS event source: each receives up to 10 delivery messages, runs them
concurrently as the worker does (`hub.delivery.worker.first_copies` and `hub.delivery.worker.process`, on a pool
of 10 threads), deletes those that succeeded and leaves the others to SQS. The worker's Powertools
batch processor and metrics are left out: they are per-process singletons, and here several
invocations run at once in one process.

Counted: for every B event, the time from the receiver's answer to the gateway until B's subscriber
receives its delivery (first arrival); p50 and p99 over all B events posted. Runs: undisturbed, A
hanging (the breaker of hub.delivery.fairness on, as shipped), and A hanging with the breaker off (TRIP_AFTER
out of reach: what the hub did before) for comparison. Left out: A's own deliveries (they are
deferred while its breaker is open, by design), network latency (all on 127.0.0.1), Lambda's
polling delays and cold starts, and the dispatcher's stream polling interval (drained at once).
A B event still undelivered DRAIN_S after the load counts with the time it had waited (the run
reports how many).
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench import harness as h

NAME = "noisy_neighbour"
LOAD_S = 20.0
B_RATE = 10.0
A_RATE = 5.0
TIMEOUT_MS = 4000
HANG_S = 6.0
DRAIN_S = 30.0
BOUND = 2.0
"""Disturbed p50 and p99 within this factor of the undisturbed ones."""


def workers() -> int:
    from hub.platform import catalog

    return catalog.function("delivery_worker").max_concurrency or 1


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Pollers:
    """workers() threads receiving, delivering and deleting, as Lambda's SQS event source would."""

    def __init__(self, poller: h.WorkerPoller) -> None:
        self.poller = poller
        self.stop = threading.Event()
        self.errors = 0
        self.moto_retries = 0
        self.sqs_lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(workers())]

    def __enter__(self) -> Pollers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=HANG_S + 10)

    def _invoke(self, messages: list[dict[str, Any]], pool: ThreadPoolExecutor) -> list[dict[str, Any]]:
        """One worker invocation: the messages that succeeded."""
        from hub.delivery import worker as delivering

        chosen = delivering.first_copies({m["MessageId"]: m["Body"] for m in messages})

        def one(message: dict[str, Any]) -> bool:
            if message["MessageId"] not in chosen:
                return True
            try:
                delivering.process(
                    message["Body"], message["ReceiptHandle"], int(message["Attributes"]["ApproximateReceiveCount"])
                )
                return True
            except delivering.RetryLater:
                return False
            except Exception:  # noqa: BLE001 - counted; SQS hands the message back
                self.errors += 1
                return False

        return [m for m, ok in zip(messages, pool.map(one, messages), strict=True) if ok]

    def _receive(self, sqs: Any) -> list[dict[str, Any]]:
        """Up to 10 messages. moto's SQS is not thread-safe: the pollers take turns, and a receive that
        trips over a concurrent change (a worker's visibility change) is made again."""
        for _ in range(5):
            try:
                with self.sqs_lock:
                    return sqs.receive_message(
                        QueueUrl=self.poller.url, MaxNumberOfMessages=10, WaitTimeSeconds=0, AttributeNames=["All"]
                    ).get("Messages", [])
            except RuntimeError:
                self.moto_retries += 1
        return []

    def _run(self) -> None:
        sqs = h.side_client("sqs")
        with ThreadPoolExecutor(max_workers=10) as pool:
            while not self.stop.is_set():
                messages = self._receive(sqs)
                if not messages:
                    time.sleep(0.05)
                    continue
                done = self._invoke(messages, pool)
                if done:
                    with self.sqs_lock:
                        sqs.delete_message_batch(
                            QueueUrl=self.poller.url,
                            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
                        )


def _post(api: h.Api, session: dict[str, Any], n: int) -> str:
    return h.post_event(api, session, h.message_body(n))["eventId"]


def _one_run(hang: bool, breaker: bool) -> dict[str, Any]:
    from hub.delivery import fairness
    from hub.platform import settings

    trip_after = fairness.TRIP_AFTER
    os.environ["WEBHOOK_TIMEOUT_MS"] = str(TIMEOUT_MS)
    settings.load.cache_clear()
    if not breaker:
        fairness.TRIP_AFTER = 10**9
    try:
        with h.embedded_aws(), h.Subscriber() as sub_b, h.Subscriber(delay_s=HANG_S if hang else 0.0) as sub_a:
            api = h.Api()
            h.silence_powertools_logs()
            session_b = api.create_session(api.create_tenant("tenant-b")["apiKey"], "bench-b", webhook_url=sub_b.url)
            session_a = api.create_session(api.create_tenant("tenant-a")["apiKey"], "bench-a", webhook_url=sub_a.url)
            dispatcher = h.StreamPump(api, "dispatcher")
            posted: dict[str, float] = {}
            with Pollers(h.WorkerPoller(api)) as pollers:
                started = time.perf_counter()
                ticks = int(LOAD_S * B_RATE)
                for tick in range(ticks):
                    due = started + tick / B_RATE
                    time.sleep(max(0.0, due - time.perf_counter()))
                    posted[_post(api, session_b, tick)] = time.perf_counter()
                    if tick % int(B_RATE / A_RATE) == 0:
                        _post(api, session_a, 100_000 + tick)
                    dispatcher.drain()
                deadline = time.perf_counter() + DRAIN_S
                while time.perf_counter() < deadline and len(_arrivals(sub_b)) < len(posted):
                    dispatcher.drain()
                    time.sleep(0.05)
                ended = time.perf_counter()
            arrived = _arrivals(sub_b)
            latencies = [(arrived.get(event_id, ended) - at) * 1000 for event_id, at in posted.items()]
            return {
                "p50_ms": h.rounded(statistics.median(latencies), 1),
                "p99_ms": h.rounded(_quantile(latencies, 0.99), 1),
                "max_ms": h.rounded(max(latencies), 1),
                "b_events": len(posted),
                "b_undelivered": sum(1 for event_id in posted if event_id not in arrived),
                "a_requests_received": len(sub_a.arrivals),
                "worker_errors": pollers.errors,
                "moto_receive_retries": pollers.moto_retries,
            }
    finally:
        fairness.TRIP_AFTER = trip_after
        os.environ.pop("WEBHOOK_TIMEOUT_MS", None)
        settings.load.cache_clear()


def _arrivals(subscriber: h.Subscriber) -> dict[str, float]:
    """Event id -> first arrival time at the subscriber."""
    first: dict[str, float] = {}
    for at, body in list(subscriber.arrivals):
        first.setdefault(json.loads(body)["id"], at)
    return first


def measure() -> dict[str, Any]:
    undisturbed = _one_run(hang=False, breaker=True)
    hanging = _one_run(hang=True, breaker=True)
    without_breaker = _one_run(hang=True, breaker=False)
    return {
        "undisturbed": undisturbed,
        "a_hanging": hanging,
        "a_hanging_without_breaker": without_breaker,
        "p50_ratio": h.rounded(hanging["p50_ms"] / undisturbed["p50_ms"], 2),
        "p99_ratio": h.rounded(hanging["p99_ms"] / undisturbed["p99_ms"], 2),
        "setup": {
            "load_s": LOAD_S,
            "b_rate_per_s": B_RATE,
            "a_rate_per_s": A_RATE,
            "workers": workers(),
            "webhook_timeout_ms": TIMEOUT_MS,
            "a_hang_s": HANG_S,
        },
        "counted": "per B event: receiver's answer to the gateway -> first arrival at B's subscriber; "
        "p50/p99 over every B event posted (undelivered ones count with the time they waited)",
        "left_out": "A's own deliveries, network latency (127.0.0.1), Lambda polling delays and cold starts, "
        "stream polling intervals, Powertools' batch processor and metrics",
    }


def run(results: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    print(
        f"noisy_neighbour (tenant B's delivery latency, {B_RATE:g} events/s for {LOAD_S:g} s, while tenant A's "
        f"subscriber ({A_RATE:g} events/s) hangs {HANG_S:g} s past a {TIMEOUT_MS} ms timeout; {workers()} workers)"
    )
    measured = measure()
    for label in ("undisturbed", "a_hanging", "a_hanging_without_breaker"):
        figures = measured[label]
        h.show(
            f"{label} p50 / p99",
            figures["p50_ms"],
            "ms",
            f"p99 {figures['p99_ms']:,.1f} ms, undelivered {figures['b_undelivered']} of {figures['b_events']}",
        )
    checks = []
    for name in ("p50_ratio", "p99_ratio"):
        ok = measured[name] <= BOUND
        h.show_target(f"noisy_neighbour_{name}", measured[name], f"<= {BOUND:g}x undisturbed", ok, "x")
        checks.append({"name": f"noisy_neighbour_{name}", "value": measured[name], "limit": BOUND, "pass": ok})
    return {NAME: measured}, checks
