"""aws_requests_per_event: billable AWS API requests for one inbound event, end to end.

receive (receiver handler, via a real API Gateway proxy event) → state → fan-out (one transaction, then
SendMessageBatch) → delivery by the delivery worker (invoked with Lambda's SQS event) to a local HTTP
subscriber → attempt log. Every request boto3 sends is counted by botocore hooks on the default session
(`harness.Meter`), while the real handlers run on moto. Setup (tenant, session registration) is excluded.

Lambda's SQS event source mapping makes ReceiveMessage and DeleteMessageBatch, not our code: they are
counted as Lambda batches them, one receive and one delete per batch of 10, i.e. 0.1 + 0.1 = 0.2 requests
per delivered message.

The same run sizes every DynamoDB item read and written (side client, not counted) to get the capacity
units the cost figure prices.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

from bench import harness as h

NAME = "aws_requests"
RUNS = 7
POLLER_RECEIVE_PER_MESSAGE = 0.1
POLLER_DELETE_PER_MESSAGE = 0.1
TARGET_REQUESTS = 5.0

SCENARIOS: dict[str, tuple[Callable[[int], bytes], bool]] = {
    "session_status_1_subscriber": (h.status_body, True),
    "message_1_subscriber": (h.message_body, True),
    "session_status_0_subscribers": (h.status_body, False),
}


def _table_ids() -> dict[str, str]:
    from hub import catalog, settings

    return {settings.table_name(t): t.id for t in catalog.TABLES}


def _one_event(api: h.Api, meter: h.Meter, poller: h.WorkerPoller, session: dict[str, Any], body: bytes,
               subscribed: bool) -> dict[str, Any]:
    meter.reset()
    reply = api.call("POST", h.receive_target(session["sessionId"]), raw=body,
                     headers=h.signed_headers(session["inboundSecret"], body))
    if reply.status != 200 or reply.json["data"]["duplicate"]:
        raise RuntimeError(f"receiver answered {reply.status}: {reply.body[:300]!r}")
    receiver_calls = meter.snapshot()
    meter.reset()
    deliveries = 0
    worker_calls: list[h.Call] = []
    if subscribed:
        messages = poller.receive(1)
        poller.invoke(messages)
        deliveries = len(messages)
        worker_calls = meter.snapshot()
        meter.reset()
    elif poller.depth():
        raise RuntimeError("a session without subscribers queued a delivery")
    return {"receiver": receiver_calls, "worker": worker_calls, "deliveries": deliveries}


def _summarize(sample: dict[str, Any], tables: dict[str, str]) -> dict[str, Any]:
    calls = sample["receiver"] + sample["worker"]
    deliveries = sample["deliveries"]
    poller = (POLLER_RECEIVE_PER_MESSAGE + POLLER_DELETE_PER_MESSAGE) * deliveries
    breakdown: Counter[str] = Counter()
    for phase in ("receiver", "worker"):
        for call in sample[phase]:
            breakdown[f"{phase}.{call.name}"] += 1
    if deliveries:
        breakdown["lambda_poller.sqs.ReceiveMessage"] += POLLER_RECEIVE_PER_MESSAGE * deliveries
        breakdown["lambda_poller.sqs.DeleteMessageBatch"] += POLLER_DELETE_PER_MESSAGE * deliveries
    item_units: Counter[str] = Counter()
    item_counts: Counter[str] = Counter()
    for phase in ("receiver", "worker"):
        for call in sample[phase]:
            for kind, table, units in call.item_units:
                item_units[f"{phase}.{kind}.{tables.get(table, table)}"] += units
                item_counts[f"{phase}.{kind}.{tables.get(table, table)}"] += 1
    return {
        "requests": len(calls) + poller,
        "breakdown": dict(breakdown),
        "dynamodb_read_units": sum(c.read_units for c in calls),
        "dynamodb_write_units": sum(c.write_units for c in calls),
        "sqs_requests": sum(c.sqs_requests for c in calls) + poller,
        "deliveries": deliveries,
        "transact_items": {
            phase: sum(len(c.params.get("TransactItems", [])) for c in sample[phase] if c.operation == "TransactWriteItems")
            for phase in ("receiver", "worker")
        },
        "write_units_by_item": dict(item_units),
        "write_items_by_kind": dict(item_counts),
    }


def _median_dict(samples: list[dict[str, float]]) -> dict[str, float]:
    keys = sorted({k for s in samples for k in s})
    return {k: h.rounded(h.median(s.get(k, 0.0) for s in samples)) for k in keys}


def measure(runs: int = RUNS) -> dict[str, Any]:
    """Per scenario: the medians over `runs` events, each in a session of its own kind."""
    out: dict[str, Any] = {"aws_requests_per_event": {}, "aws_requests_breakdown": {}, "capacity_per_event": {},
                           "write_units_by_item": {}, "write_items_by_kind": {}}
    with h.embedded_aws():
        meter = h.Meter(sizing=True).attach()
        try:
            api = h.Api()
            h.silence_powertools_logs()
            tables = _table_ids()
            tenant = api.create_tenant()
            with h.Subscriber() as subscriber:
                poller = h.WorkerPoller(api)
                for index, (scenario, (make_body, subscribed)) in enumerate(SCENARIOS.items()):
                    session = api.create_session(tenant["apiKey"], f"bench-req-{index}",
                                                 webhook_url=subscriber.url if subscribed else None)
                    summaries = [
                        _summarize(_one_event(api, meter, poller, session, make_body(n), subscribed), tables)
                        for n in range(runs)
                    ]
                    out["aws_requests_per_event"][scenario] = h.rounded(h.median(s["requests"] for s in summaries))
                    out["aws_requests_breakdown"][scenario] = _median_dict([s["breakdown"] for s in summaries])
                    out["capacity_per_event"][scenario] = {
                        "dynamodb_read_units": h.rounded(h.median(s["dynamodb_read_units"] for s in summaries)),
                        "dynamodb_write_units": h.rounded(h.median(s["dynamodb_write_units"] for s in summaries)),
                        "sqs_requests": h.rounded(h.median(s["sqs_requests"] for s in summaries)),
                        "deliveries": h.rounded(h.median(s["deliveries"] for s in summaries)),
                        "receiver_transaction_items": h.rounded(h.median(s["transact_items"]["receiver"] for s in summaries)),
                        "worker_transaction_items": h.rounded(h.median(s["transact_items"]["worker"] for s in summaries)),
                    }
                    out["write_units_by_item"][scenario] = _median_dict([s["write_units_by_item"] for s in summaries])
                    out["write_items_by_kind"][scenario] = _median_dict([s["write_items_by_kind"] for s in summaries])
        finally:
            meter.detach()
    return out


def run(results: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    print(f"aws_requests_per_event (median of {RUNS} events per scenario, real handlers on moto; "
          "SQS Receive/DeleteMessageBatch by Lambda's poller counted as 0.1 + 0.1 per message, batches of 10)")
    measured = measure()
    targets = []
    for scenario, value in measured["aws_requests_per_event"].items():
        if scenario == "session_status_1_subscriber":
            ok = value <= TARGET_REQUESTS
            h.show_target(f"{scenario}", value, f"<= {TARGET_REQUESTS:g}", ok, "req")
            targets.append({"name": f"aws_requests_per_event.{scenario}", "value": value, "limit": TARGET_REQUESTS, "pass": ok})
        else:
            h.show(scenario, value, "req")
        capacity = measured["capacity_per_event"][scenario]
        print(f"      DynamoDB RRU {capacity['dynamodb_read_units']:g}, WRU {capacity['dynamodb_write_units']:g}"
              f" (receiver transaction {capacity['receiver_transaction_items']:g} items,"
              f" worker transaction {capacity['worker_transaction_items']:g} items), SQS requests {capacity['sqs_requests']:g}")
        for name, count in sorted(measured["aws_requests_breakdown"][scenario].items()):
            print(f"        {count:>5g}  {name}")
        print("      DynamoDB items written (phase.kind.table: items -> write units):")
        for name, units in sorted(measured["write_units_by_item"][scenario].items()):
            print(f"        {name:<32} {measured['write_items_by_kind'][scenario].get(name, 0):>3g} -> {units:g} WRU")
    return measured, targets
