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

The same run prices every DynamoDB request by DynamoDB's rules (bench.capacity: each write on its table
and on every index whose entry changed, from the whole items read before and after by a side client, not
counted): the capacity units the cost figure prices.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


def table_ids() -> dict[str, str]:
    from hub.platform import catalog, settings

    return {settings.table_name(t): t.id for t in catalog.TABLES}


def _deliver_all(poller: h.WorkerPoller) -> int:
    """Runs the worker over the queue in batches of 10 until it is empty; returns the batches."""
    batches = 0
    while poller.depth():
        poller.invoke(poller.receive(min(10, poller.depth())))
        batches += 1
    return batches


def run_burst(
    api: h.Api,
    meter: h.Meter,
    pumps: dict[str, h.StreamPump],
    session: dict[str, Any],
    bodies: list[bytes],
    subscribed: bool,
) -> dict[str, Any]:
    """Every stage's requests for `bodies`, sent one after another, then handled as Lambda batches them."""
    poller = h.WorkerPoller(api)
    invoked_before = {name: pump.invocations for name, pump in pumps.items()}
    calls: dict[str, list[h.Call]] = {}
    meter.reset()
    for body in bodies:
        if h.post_event(api, session, body)["duplicate"]:
            raise RuntimeError("the receiver took a bench event for a duplicate")
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
        "invocations": {
            "receiver": len(bodies),
            "delivery_worker": worker_batches,
            **{name: pump.invocations - invoked_before[name] for name, pump in pumps.items()},
        },
    }


def new_session(
    api: h.Api, pumps: dict[str, h.StreamPump], api_key: str, session_id: str, webhook_url: str | None
) -> dict[str, Any]:
    """A registered session; the registration's stream records are handled (setup, not measured)."""
    session = api.create_session(api_key, session_id, webhook_url=webhook_url)
    for pump in pumps.values():
        pump.drain()
    return session


def summarize(sample: dict[str, Any], tables: dict[str, str]) -> dict[str, Any]:
    events, deliveries = sample["events"], sample["deliveries"]
    calls = [c for phase in PHASES for c in sample["calls"][phase]]
    breakdown: Counter[str] = Counter()
    item_units: Counter[str] = Counter()
    item_counts: Counter[str] = Counter()
    writes_by_target: Counter[str] = Counter()
    reads_by_target: Counter[str] = Counter()
    for phase in PHASES:
        for call in sample["calls"][phase]:
            breakdown[f"{phase}.{call.name}"] += 1
            for kind, table, target, units in call.item_units:
                name = tables.get(table, table) + ("" if target == "table" else f".{target}")
                item_units[f"{phase}.{kind}.{name}"] += units
                writes_by_target[name] += units
                if target == "table":
                    item_counts[f"{phase}.{kind}.{name}"] += 1
            for target, units in call.read_targets:
                table, _, index = target.partition(".")
                reads_by_target[tables.get(table, table) + (f".{index}" if index else "")] += units
    poller_sqs = (POLLER_RECEIVE_PER_MESSAGE + POLLER_DELETE_PER_MESSAGE) * deliveries
    if deliveries:
        breakdown["lambda_poller.sqs.ReceiveMessage"] += POLLER_RECEIVE_PER_MESSAGE * deliveries
        breakdown["lambda_poller.sqs.DeleteMessageBatch"] += POLLER_DELETE_PER_MESSAGE * deliveries
    stream_batches = sum(sample["invocations"][name] for name in STREAM_FUNCTIONS)
    if stream_batches:
        breakdown["lambda_poller.dynamodbstreams.GetRecords"] += stream_batches

    def per_event(value: float) -> float:
        return h.rounded(value / events)

    table_writes = sum(u for c in calls for _, _, target, u in c.item_units if target == "table")
    return {
        "requests": per_event(len(calls) + poller_sqs + stream_batches),
        "breakdown": {k: per_event(v) for k, v in sorted(breakdown.items())},
        "capacity": {
            "dynamodb_read_units": per_event(sum(c.read_units for c in calls)),
            "dynamodb_write_units": per_event(sum(c.write_units for c in calls)),
            "dynamodb_write_units_tables_only": per_event(table_writes),
            "dynamodb_write_units_if_index_entries_had_100_bytes_more": per_event(
                sum(c.write_units_with_entry_overhead for c in calls)
            ),
            "sqs_requests": per_event(sum(c.sqs_requests for c in calls) + poller_sqs),
            "deliveries": per_event(deliveries),
        },
        "invocations_per_event": {k: per_event(v) for k, v in sample["invocations"].items()},
        "write_units_by_item": {k: per_event(v) for k, v in sorted(item_units.items())},
        "write_items_by_kind": {k: per_event(v) for k, v in sorted(item_counts.items())},
        "write_units_by_table_and_index": {k: per_event(v) for k, v in sorted(writes_by_target.items())},
        "read_units_by_table_and_index": {k: per_event(v) for k, v in sorted(reads_by_target.items())},
    }


@dataclass
class Rig:
    """The embedded hub a figure drives: metered (with sizing), one tenant, the stream pumps, a subscriber."""

    api: h.Api
    meter: h.Meter
    pumps: dict[str, h.StreamPump]
    tenant: dict[str, Any]
    tables: dict[str, str]
    subscriber: h.Subscriber

    def session(self, session_id: str, subscribed: bool = True) -> dict[str, Any]:
        return new_session(
            self.api, self.pumps, self.tenant["apiKey"], session_id, self.subscriber.url if subscribed else None
        )

    def measure(self, session: dict[str, Any], bodies: list[bytes], subscribed: bool = True) -> dict[str, Any]:
        """summarize() of run_burst()."""
        return summarize(run_burst(self.api, self.meter, self.pumps, session, bodies, subscribed), self.tables)


@contextmanager
def rig() -> Iterator[Rig]:
    with h.embedded_aws():
        meter = h.Meter(sizing=True).attach()
        try:
            api = h.Api()
            h.silence_powertools_logs()
            tenant = api.create_tenant()
            pumps = {name: h.StreamPump(api, name) for name in STREAM_FUNCTIONS}
            with h.Subscriber() as subscriber:
                yield Rig(api, meter, pumps, tenant, table_ids(), subscriber)
        finally:
            meter.detach()


def measure(burst: int = BURST) -> dict[str, Any]:
    """Per scenario, a burst of `burst` events in a session of its own, and one more single event."""
    out: dict[str, Any] = {
        key: {}
        for key in (
            "aws_requests_per_event",
            "aws_requests_per_event_unbatched",
            "aws_requests_breakdown",
            "capacity_per_event",
            "invocations_per_event",
            "write_units_by_item",
            "write_items_by_kind",
            "write_units_by_table_and_index",
            "read_units_by_table_and_index",
        )
    }
    with rig() as hub:
        for index, (scenario, (make_body, subscribed)) in enumerate(SCENARIOS.items()):
            session = hub.session(f"bench-req-{index}", subscribed)
            summary = hub.measure(session, [make_body(n) for n in range(burst)], subscribed)
            single = hub.measure(session, [make_body(burst)], subscribed)
            out["aws_requests_per_event"][scenario] = summary["requests"]
            out["aws_requests_per_event_unbatched"][scenario] = single["requests"]
            out["aws_requests_breakdown"][scenario] = summary["breakdown"]
            out["capacity_per_event"][scenario] = summary["capacity"]
            out["invocations_per_event"][scenario] = summary["invocations_per_event"]
            for key in (
                "write_units_by_item",
                "write_items_by_kind",
                "write_units_by_table_and_index",
                "read_units_by_table_and_index",
            ):
                out[key][scenario] = summary[key]
    return out


def run(results: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    print(
        f"aws_requests_per_event (bursts of {BURST} events per scenario, real handlers on moto, each stage batched "
        "as Lambda batches it; SQS Receive/DeleteMessageBatch 0.1 + 0.1 per message, one GetRecords per stream batch)"
    )
    measured = measure()
    targets = []
    for scenario, value in measured["aws_requests_per_event"].items():
        unbatched = measured["aws_requests_per_event_unbatched"][scenario]
        if scenario == "session_status_1_subscriber":
            ok = value <= TARGET_REQUESTS
            h.show_target(f"{scenario}", value, f"<= {TARGET_REQUESTS:g}", ok, "req")
            targets.append(
                {"name": f"aws_requests_per_event.{scenario}", "value": value, "limit": TARGET_REQUESTS, "pass": ok}
            )
        else:
            h.show(scenario, value, "req")
        capacity = measured["capacity_per_event"][scenario]
        print(f"      a single event on its own (every batch of one): {unbatched:g} req")
        print(
            f"      DynamoDB RRU {capacity['dynamodb_read_units']:g}, WRU {capacity['dynamodb_write_units']:g} "
            f"(tables alone {capacity['dynamodb_write_units_tables_only']:g}, the rest index writes), "
            f"SQS requests {capacity['sqs_requests']:g}, invocations {measured['invocations_per_event'][scenario]}"
        )
        for name, count in measured["aws_requests_breakdown"][scenario].items():
            print(f"        {count:>6g}  {name}")
        print("      DynamoDB items written (phase.kind.table[.index]: items -> write units, per event):")
        for name, units in measured["write_units_by_item"][scenario].items():
            print(f"        {name:<36} {measured['write_items_by_kind'][scenario].get(name, 0):>6g} -> {units:g} WRU")
    return measured, targets
