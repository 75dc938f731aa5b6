"""cost_usd_per_million_events: what one million inbound events cost on AWS, from measured numbers.

Per event = receiver invocation (request + GB-s at its catalog memory for its measured duration)
          + worker share (a batch of 10 deliveries is one invocation: 1/10 of its request and of its
            measured batch duration per delivery)
          + DynamoDB request units (from the item sizes seen in the aws_requests figure)
          + SQS requests (hub's sends + Lambda's poller, 0.2 per delivery)
          + API Gateway (one request per event; none, REST or HTTP).

Assumptions (kept simple on purpose):
- durations are the handlers' in-process times on moto, warm (no cold starts), rounded up to 1 ms per
  invocation as Lambda bills; moto answers in-process, so real DynamoDB/SQS network round trips
  (a few ms each) would add to them;
- the worker's batch duration is measured against a local subscriber that answers at once; a slow
  subscriber makes the worker's share grow with its latency (see delivery figures);
- DynamoDB: a write is 1 WRU per KB (rounded up) of the larger of the item before and after, 2 per KB
  in a transaction; a strongly consistent GetItem is 1 RRU per 4 KB, a Query is its items' total
  size per 4 KB (half when eventually consistent); storage, streams, PITR and backups are ignored;
- no free tiers, no data transfer, no CloudWatch (logs, metrics, X-Ray) costs.
"""

from __future__ import annotations

import math
import time
from typing import Any

from bench import aws_requests, harness as h, prices

NAME = "cost"
TARGET_USD = 3.0
RECEIVER_EVENTS = 21  # first one is a warm-up
WORKER_BATCHES = 4  # first one is a warm-up


def _memory_gb(function_name: str) -> float:
    from hub import catalog

    return catalog.function(function_name).memory_mb / 1024


def measure_durations() -> dict[str, Any]:
    """Warm receiver durations per scenario, and the worker's duration for a batch of 10 deliveries."""
    receiver_ms: dict[str, float] = {}
    with h.embedded_aws():
        api = h.Api()
        h.silence_powertools_logs()
        tenant = api.create_tenant()
        with h.Subscriber() as subscriber:
            poller = h.WorkerPoller(api)
            queued = 0
            for index, (scenario, (make_body, subscribed)) in enumerate(aws_requests.SCENARIOS.items()):
                session = api.create_session(tenant["apiKey"], f"bench-cost-{index}",
                                             webhook_url=subscriber.url if subscribed else None)
                timings = []
                for n in range(RECEIVER_EVENTS):
                    body = make_body(n)
                    function, event = api.event("POST", h.receive_target(session["sessionId"]),
                                                h.signed_headers(session["inboundSecret"], body), body)
                    started = time.perf_counter()
                    result = api.invoke(function, event)
                    timings.append((time.perf_counter() - started) * 1000)
                    if result["statusCode"] != 200:
                        raise RuntimeError(f"receiver answered {result}")
                    queued += int(subscribed)
                receiver_ms[scenario] = h.median(timings[1:])
            batches = []
            for _ in range(min(WORKER_BATCHES, queued // 10)):
                _, elapsed = poller.invoke(poller.receive(10))
                batches.append(elapsed)
    return {
        "receiver_ms": {k: h.rounded(v) for k, v in receiver_ms.items()},
        "worker_batch10_ms": h.rounded(h.median(batches[1:] if len(batches) > 1 else batches)),
    }


def per_event(capacity: dict[str, float], receiver_ms: float, worker_batch10_ms: float) -> dict[str, float]:
    """USD per event, by component."""
    deliveries = capacity["deliveries"]
    worker_invocations = deliveries / 10
    return {
        "lambda_requests": (1 + worker_invocations) * prices.LAMBDA_ARM64_PER_REQUEST,
        "lambda_receiver_compute": _memory_gb("receiver") * math.ceil(receiver_ms) / 1000 * prices.LAMBDA_ARM64_PER_GB_SECOND,
        "lambda_worker_compute": (_memory_gb("delivery_worker") * math.ceil(worker_batch10_ms) / 1000
                                  * prices.LAMBDA_ARM64_PER_GB_SECOND * worker_invocations),
        "dynamodb_writes": capacity["dynamodb_write_units"] * prices.DYNAMODB_PER_WRITE_REQUEST_UNIT,
        "dynamodb_reads": capacity["dynamodb_read_units"] * prices.DYNAMODB_PER_READ_REQUEST_UNIT,
        "sqs": capacity["sqs_requests"] * prices.SQS_STANDARD_PER_REQUEST,
    }


def _per_million(parts: dict[str, float]) -> dict[str, float]:
    base = sum(parts.values()) * 1_000_000
    return {
        "excluding_api_gateway": h.rounded(base, 4),
        "with_rest_api": h.rounded(base + prices.API_GATEWAY_REST_PER_REQUEST * 1_000_000, 4),
        "with_http_api": h.rounded(base + prices.API_GATEWAY_HTTP_PER_REQUEST * 1_000_000, 4),
    }


def run(results: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    print("cost_usd_per_million_events (arm64 Lambda at catalog memory, DynamoDB on-demand, SQS standard; "
          "prices in bench/prices.py)")
    capacity = results.get("capacity_per_event")
    if not capacity or set(capacity) != set(aws_requests.SCENARIOS):
        capacity = aws_requests.measure()["capacity_per_event"]
    durations = measure_durations()
    print(f"  measured (warm, in-process on moto): receiver {durations['receiver_ms']} ms; "
          f"worker, batch of 10 to an instant subscriber: {durations['worker_batch10_ms']:.1f} ms")

    by_scenario: dict[str, Any] = {}
    breakdown: dict[str, Any] = {}
    for scenario in aws_requests.SCENARIOS:
        parts = per_event(capacity[scenario], durations["receiver_ms"][scenario], durations["worker_batch10_ms"])
        by_scenario[scenario] = _per_million(parts)
        breakdown[scenario] = {k: h.rounded(v * 1_000_000, 4) for k, v in parts.items()}
    headline = by_scenario["session_status_1_subscriber"]
    out: dict[str, Any] = {
        "cost_usd_per_million_events": headline,
        "cost_usd_per_million_events_by_scenario": by_scenario,
        "cost_breakdown_usd_per_million_events": breakdown,
        "cost_inputs": {
            "receiver_ms": durations["receiver_ms"],
            "worker_batch10_ms": durations["worker_batch10_ms"],
            "receiver_memory_mb": _memory_gb("receiver") * 1024,
            "worker_memory_mb": _memory_gb("delivery_worker") * 1024,
        },
    }
    slow = results.get("delivery_batch10_slow_subscriber_ms")
    if isinstance(slow, (int, float)):
        parts = per_event(capacity["session_status_1_subscriber"], durations["receiver_ms"]["session_status_1_subscriber"], slow)
        out["cost_usd_per_million_events_100ms_subscriber"] = _per_million(parts)

    ok = headline["excluding_api_gateway"] <= TARGET_USD
    print("  headline scenario: session_status_1_subscriber (one status event, one subscriber)")
    h.show_target("excluding_api_gateway", headline["excluding_api_gateway"], f"<= ${TARGET_USD:g}", ok, "$/1M")
    h.show("with_rest_api", headline["with_rest_api"], "$/1M")
    h.show("with_http_api", headline["with_http_api"], "$/1M")
    for scenario, parts in breakdown.items():
        total = sum(parts.values())
        shares = ", ".join(f"{k} {v:.3f}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1]))
        print(f"    {scenario}: ${total:.3f}/1M excl. API GW = {shares}")
    if "cost_usd_per_million_events_100ms_subscriber" in out:
        print(f"    with a 100 ms subscriber (worker batch {slow:.0f} ms): "
              f"${out['cost_usd_per_million_events_100ms_subscriber']['excluding_api_gateway']:.3f}/1M excl. API GW")
    return out, [{"name": "cost_usd_per_million_events.excluding_api_gateway", "value": headline["excluding_api_gateway"],
                  "limit": TARGET_USD, "pass": ok}]
