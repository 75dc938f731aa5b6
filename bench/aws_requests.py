"""aws_requests_per_event: billable AWS API requests for one inbound event, end to end.

receive (receiver handler, via a real API Gateway proxy event: session write, event record) → the
Events stream → dispatcher (SendMessageBatch) → delivery worker (invoked with Lambda's SQS event) to a
local HTTP subscriber (the attempt creates the log) → the Sessions, Events and Deliveries streams →
aggregator (counters), and the push function on the Sessions stream (nobody watching: one Connections
lookup per batch and session). Every request boto3 sends is counted by botocore hooks on the default session
(`harness.Meter`) while the real handlers run on moto. Setup (tenant, session registration) is excluded.

Each scenario sends a burst of BURST events and lets every stage run as Lambda would: the dispatcher
and the aggregator get their stream batches at their catalog batch sizes (the dispatcher's is 100, the
aggregator's 1000, so a burst of 100 gives them one batch per stream), the worker batches of 10.
Requests are divided by BURST. Lambda's pollers make the rest, not our code, and are counted as
Lambda batches them: SQS ReceiveMessage + DeleteMessageBatch, one each per batch of 10 (0.2 per
delivery), and one stream GetRecords per batch handed to a function (free of charge, counted anyway).
`unbatched` repeats a scenario with a single event, every batch holding one record: the cost of a
quiet session's event.

The same run sizes every DynamoDB item read and written (side client, not counted) to get the capacity
units the cost figure prices.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from bench import harness as h

NAME = "aws_requests"
BURST = 100
POLLER_RECEIVE_PER_MESSAGE = 0.1
POLLER_DELETE_PER_MESSAGE = 0.1
TARGET_REQUESTS = 5.0
PHASES = ("receiver", "dispatcher", "worker", "aggregator", "push")
STREAM_FUNCTIONS = ("dispatcher", "aggregator", "push")
"""push: the connect page's Sessions stream reader (nobody watches here: its Connections lookup alone)."""

SCENARIOS: dict[str, tuple[Callable[[int], bytes], bool]] = {
    "session_status_1_subscriber": (h.status_body, True),
    "message_1_subscriber": (h.message_body, True),
    "session_status_0_subscribers": (h.status_body, False),
}


def _table_ids() -> dict[str, str]:
    from hub import catalog, settings

    return {settings.table_name(t): t.id for t in catalog.TABLES}


def _deliver_all(poller: h.WorkerPoller) -> int:
    """Runs the worker over the queue in batches of 10 until it is empty; returns the batches."""
    batches = 0
    while poller.depth():
        poller.invoke(poller.receive(min(10, poller.depth())))
        batches += 1
    return batches


def _burst(api: h.Api, meter: h.Meter, pumps: dict[str, h.StreamPump], session: dict[str, Any], bodies: list[bytes],
           subscribed: bool) -> dict[str, Any]:
    """Every stage's requests for `bodies`, sent one after another, then handled as Lambda batches them."""
    poller = h.WorkerPoller(api)
    invoked_before = {name: pump.invocations for name, pump in pumps.items()}
    calls: dict[str, list[h.Call]] = {}
    meter.reset()
    for body in bodies:
        reply = api.call("POST", h.receive_target(session["sessionId"]), raw=body,
                         headers=h.signed_headers(session["inboundSecret"], body))
        if reply.status != 200 or reply.json["data"]["duplicate"]:
            raise RuntimeError(f"receiver answered {reply.status}: {reply.body[:300]!r}")
    calls["receiver"] = meter.snapshot()
    meter.reset()
    pumps["dispatcher"].drain()
    calls["dispatcher"] = meter.snapshot()
    meter.reset()
    worker_batches = _deliver_all(poller)
    calls["worker"] = meter.snapshot()
    meter.reset()
    pumps["aggregator"].drain()
    calls["aggregator"] = meter.snapshot()
    meter.reset()
    pumps["push"].drain()
    calls["push"] = meter.snapshot()
    meter.reset()
    deliveries = sum(1 for c in calls["worker"] if c.name in ("dynamodb.PutItem", "dynamodb.UpdateItem"))
    if bool(deliveries) != subscribed or (subscribed and deliveries != len(bodies)):
        raise RuntimeError(f"{len(bodies)} events made {deliveries} recorded deliveries (subscribed: {subscribed})")
    return {
        "calls": calls,
        "events": len(bodies),
        "deliveries": deliveries,
        "invocations": {"receiver": len(bodies), "delivery_worker": worker_batches,
                        **{name: pump.invocations - invoked_before[name] for name, pump in pumps.items()}},
    }


def _summarize(sample: dict[str, Any], tables: dict[str, str]) -> dict[str, Any]:
    events, deliveries = sample["events"], sample["deliveries"]
    calls = [c for phase in PHASES for c in sample["calls"][phase]]
    breakdown: Counter[str] = Counter()
    item_units: Counter[str] = Counter()
    item_counts: Counter[str] = Counter()
    for phase in PHASES:
        for call in sample["calls"][phase]:
            breakdown[f"{phase}.{call.name}"] += 1
            for kind, table, units in call.item_units:
                item_units[f"{phase}.{kind}.{tables.get(table, table)}"] += units
                item_counts[f"{phase}.{kind}.{tables.get(table, table)}"] += 1
    poller_sqs = (POLLER_RECEIVE_PER_MESSAGE + POLLER_DELETE_PER_MESSAGE) * deliveries
    if deliveries:
        breakdown["lambda_poller.sqs.ReceiveMessage"] += POLLER_RECEIVE_PER_MESSAGE * deliveries
        breakdown["lambda_poller.sqs.DeleteMessageBatch"] += POLLER_DELETE_PER_MESSAGE * deliveries
    stream_batches = sum(sample["invocations"][name] for name in STREAM_FUNCTIONS)
    if stream_batches:
        breakdown["lambda_poller.dynamodbstreams.GetRecords"] += stream_batches

    def per_event(value: float) -> float:
        return h.rounded(value / events)

    return {
        "requests": per_event(len(calls) + poller_sqs + stream_batches),
        "breakdown": {k: per_event(v) for k, v in sorted(breakdown.items())},
        "capacity": {
            "dynamodb_read_units": per_event(sum(c.read_units for c in calls)),
            "dynamodb_write_units": per_event(sum(c.write_units for c in calls)),
            "sqs_requests": per_event(sum(c.sqs_requests for c in calls) + poller_sqs),
            "deliveries": per_event(deliveries),
        },
        "invocations_per_event": {k: per_event(v) for k, v in sample["invocations"].items()},
        "write_units_by_item": {k: per_event(v) for k, v in sorted(item_units.items())},
        "write_items_by_kind": {k: per_event(v) for k, v in sorted(item_counts.items())},
    }


def measure(burst: int = BURST) -> dict[str, Any]:
    """Per scenario, a burst of `burst` events in a session of its own, and one more single event."""
    out: dict[str, Any] = {key: {} for key in ("aws_requests_per_event", "aws_requests_per_event_unbatched",
                                               "aws_requests_breakdown", "capacity_per_event",
                                               "invocations_per_event", "write_units_by_item", "write_items_by_kind")}
    with h.embedded_aws():
        meter = h.Meter(sizing=True).attach()
        try:
            api = h.Api()
            h.silence_powertools_logs()
            tables = _table_ids()
            tenant = api.create_tenant()
            pumps = {name: h.StreamPump(api, name) for name in STREAM_FUNCTIONS}
            with h.Subscriber() as subscriber:
                for index, (scenario, (make_body, subscribed)) in enumerate(SCENARIOS.items()):
                    session = api.create_session(tenant["apiKey"], f"bench-req-{index}",
                                                 webhook_url=subscriber.url if subscribed else None)
                    for pump in pumps.values():  # the registration's records: setup, not measured
                        pump.drain()
                    bodies = [make_body(n) for n in range(burst)]
                    summary = _summarize(_burst(api, meter, pumps, session, bodies, subscribed), tables)
                    single = _summarize(_burst(api, meter, pumps, session, [make_body(burst)], subscribed), tables)
                    out["aws_requests_per_event"][scenario] = summary["requests"]
                    out["aws_requests_per_event_unbatched"][scenario] = single["requests"]
                    out["aws_requests_breakdown"][scenario] = summary["breakdown"]
                    out["capacity_per_event"][scenario] = summary["capacity"]
                    out["invocations_per_event"][scenario] = summary["invocations_per_event"]
                    out["write_units_by_item"][scenario] = summary["write_units_by_item"]
                    out["write_items_by_kind"][scenario] = summary["write_items_by_kind"]
        finally:
            meter.detach()
    return out


def run(results: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    print(f"aws_requests_per_event (bursts of {BURST} events per scenario, real handlers on moto, each stage batched "
          "as Lambda batches it; SQS Receive/DeleteMessageBatch 0.1 + 0.1 per message, one GetRecords per stream batch)")
    measured = measure()
    targets = []
    for scenario, value in measured["aws_requests_per_event"].items():
        unbatched = measured["aws_requests_per_event_unbatched"][scenario]
        if scenario == "session_status_1_subscriber":
            ok = value <= TARGET_REQUESTS
            h.show_target(f"{scenario}", value, f"<= {TARGET_REQUESTS:g}", ok, "req")
            targets.append({"name": f"aws_requests_per_event.{scenario}", "value": value, "limit": TARGET_REQUESTS, "pass": ok})
        else:
            h.show(scenario, value, "req")
        capacity = measured["capacity_per_event"][scenario]
        print(f"      a single event on its own (every batch of one): {unbatched:g} req")
        print(f"      DynamoDB RRU {capacity['dynamodb_read_units']:g}, WRU {capacity['dynamodb_write_units']:g}, "
              f"SQS requests {capacity['sqs_requests']:g}, invocations {measured['invocations_per_event'][scenario]}")
        for name, count in measured["aws_requests_breakdown"][scenario].items():
            print(f"        {count:>6g}  {name}")
        print("      DynamoDB items written (phase.kind.table: items -> write units, per event):")
        for name, units in measured["write_units_by_item"][scenario].items():
            print(f"        {name:<36} {measured['write_items_by_kind'][scenario].get(name, 0):>6g} -> {units:g} WRU")
    return measured, targets
