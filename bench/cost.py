"""cost_usd_per_million_events: what one million inbound events cost on AWS, from measured numbers.

Per event, for each function: its invocations per event (aws_requests: the receiver 1, the dispatcher,
worker and aggregator one per batch) × (Lambda request + GB-s at its catalog memory for its measured
duration per invocation); plus DynamoDB request units and SQS requests per event (aws_requests, item
sizes measured), plus API Gateway (one request per event; none, REST or HTTP).

Assumptions (kept simple on purpose):
- durations are the handlers' in-process times on moto, warm (no cold starts), rounded up to 1 ms per
  invocation as Lambda bills; moto answers in-process, so real DynamoDB/SQS network round trips
  (a few ms each) would add to them;
- durations come from a burst of BURST events per scenario, each stage batched as in aws_requests;
  the worker's batches go to a local subscriber that answers at once (a slow subscriber makes the
  worker's share grow with its latency: see the 100 ms subscriber line);
- DynamoDB: request units as aws_requests prices them with bench.capacity: every write on its table and
  on each global secondary index whose entry changes (1 WRU per KB of the larger of before and after,
  2 in a transaction; an index key change a delete plus a put), reads 1 RRU per 4 KB (half when
  eventually consistent); storage, PITR and backups are ignored, and so are stream reads (free for
  Lambda triggers);
- no free tiers, no data transfer, no CloudWatch (logs, metrics, X-Ray) costs.
"""

from __future__ import annotations

import math
from typing import Any

from bench import aws_requests, prices
from bench import harness as h

NAME = "cost"
TARGET_USD = 3.0
BURST = aws_requests.BURST


def _memory_gb(function_name: str) -> float:
    from hub.platform import catalog

    return catalog.function(function_name).memory_mb / 1024


def measure_durations() -> dict[str, Any]:
    """Warm milliseconds per invocation of each function, per scenario (a burst of BURST events each)."""
    by_scenario: dict[str, dict[str, float]] = {}
    with h.embedded_aws():
        api = h.Api()
        h.silence_powertools_logs()
        tenant = api.create_tenant()
        pumps = {name: h.StreamPump(api, name) for name in aws_requests.STREAM_FUNCTIONS}
        with h.Subscriber() as subscriber:
            poller = h.WorkerPoller(api)
            for index, (scenario, (make_body, subscribed)) in enumerate(aws_requests.SCENARIOS.items()):
                session = api.create_session(
                    tenant["apiKey"], f"bench-cost-{index}", webhook_url=subscriber.url if subscribed else None
                )
                for pump in pumps.values():
                    pump.drain()
                    pump.invoker.ms.clear()
                receiver = h.TimedInvoker(api)
                for n in range(BURST + 1):  # the first is a warm-up
                    body = make_body(n)
                    function, event = api.event(
                        "POST",
                        h.receive_target(session["receiverHandle"]),
                        h.signed_headers(session["inboundSecret"], body),
                        body,
                    )
                    result = receiver.invoke(function, event)
                    if result["statusCode"] != 200:
                        raise RuntimeError(f"receiver answered {result}")
                pumps["dispatcher"].drain()
                worker = []
                while poller.depth():
                    worker.append(poller.invoke(poller.receive(min(10, poller.depth())))[1])
                pumps["aggregator"].drain()
                pumps["push"].drain()
                by_scenario[scenario] = {
                    "receiver": h.median(receiver.ms["receiver"][1:]),
                    "delivery_worker": h.median(worker) if worker else 0.0,
                    **{
                        name: h.median([ms for values in pump.invoker.ms.values() for ms in values] or [0.0])
                        for name, pump in pumps.items()
                    },
                }
    return {scenario: {k: h.rounded(v) for k, v in ms.items()} for scenario, ms in by_scenario.items()}


def per_event(capacity: dict[str, float], invocations: dict[str, float], ms: dict[str, float]) -> dict[str, float]:
    """USD per event, by component."""
    parts = {
        "lambda_requests": sum(invocations.values()) * prices.LAMBDA_ARM64_PER_REQUEST,
        "dynamodb_writes": capacity["dynamodb_write_units"] * prices.DYNAMODB_PER_WRITE_REQUEST_UNIT,
        "dynamodb_reads": capacity["dynamodb_read_units"] * prices.DYNAMODB_PER_READ_REQUEST_UNIT,
        "sqs": capacity["sqs_requests"] * prices.SQS_STANDARD_PER_REQUEST,
    }
    for function, count in invocations.items():
        parts[f"lambda_{function}_compute"] = (
            _memory_gb(function) * math.ceil(ms.get(function, 0.0)) / 1000 * prices.LAMBDA_ARM64_PER_GB_SECOND * count
        )
    return parts


def _per_million(parts: dict[str, float]) -> dict[str, float]:
    base = sum(parts.values()) * 1_000_000
    return {
        "excluding_api_gateway": h.rounded(base, 4),
        "with_rest_api": h.rounded(base + prices.API_GATEWAY_REST_PER_REQUEST * 1_000_000, 4),
        "with_http_api": h.rounded(base + prices.API_GATEWAY_HTTP_PER_REQUEST * 1_000_000, 4),
    }


def run(results: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    print(
        "cost_usd_per_million_events (arm64 Lambda at catalog memory, DynamoDB on-demand, SQS standard; "
        "prices in bench/prices.py)"
    )
    if not all(
        set(results.get(key) or {}) == set(aws_requests.SCENARIOS)
        for key in ("capacity_per_event", "invocations_per_event")
    ):
        results = {**results, **aws_requests.measure()}
    capacity, invocations = results["capacity_per_event"], results["invocations_per_event"]
    durations = measure_durations()
    print(f"  measured ms per invocation (warm, in-process on moto, bursts of {BURST}): {durations}")

    by_scenario: dict[str, Any] = {}
    breakdown: dict[str, Any] = {}
    for scenario in aws_requests.SCENARIOS:
        parts = per_event(capacity[scenario], invocations[scenario], durations[scenario])
        by_scenario[scenario] = _per_million(parts)
        breakdown[scenario] = {k: h.rounded(v * 1_000_000, 4) for k, v in parts.items()}
    headline = by_scenario["session_status_1_subscriber"]
    out: dict[str, Any] = {
        "cost_usd_per_million_events": headline,
        "cost_usd_per_million_events_by_scenario": by_scenario,
        "cost_breakdown_usd_per_million_events": breakdown,
        "cost_inputs": {
            "ms_per_invocation": durations,
            "memory_mb": {name: _memory_gb(name) * 1024 for name in invocations["session_status_1_subscriber"]},
        },
    }
    slow = results.get("delivery_batch10_slow_subscriber_ms")
    if isinstance(slow, (int, float)):
        scenario = "session_status_1_subscriber"
        parts = per_event(capacity[scenario], invocations[scenario], {**durations[scenario], "delivery_worker": slow})
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
        print(
            f"    with a 100 ms subscriber (worker batch {slow:.0f} ms): "
            f"${out['cost_usd_per_million_events_100ms_subscriber']['excluding_api_gateway']:.3f}/1M excl. API GW"
        )
    return out, [
        {
            "name": "cost_usd_per_million_events.excluding_api_gateway",
            "value": headline["excluding_api_gateway"],
            "limit": TARGET_USD,
            "pass": ok,
        }
    ]
