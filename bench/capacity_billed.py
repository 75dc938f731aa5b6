"""capacity_billed_per_event: what DynamoDB bills for one inbound event of each kind, index writes included.

Per kind (a message, an ack, a status event that leaves the status unchanged (loading progress), a status
change (ready / disconnected alternately), a QR code (the hub renders and stores its PNG)): a session of its
own with one subscriber, one warm-up event (so that "unchanged" is unchanged and a QR replaces a QR), then a
burst of BURST events run through every stage as in aws_requests (receiver, dispatcher, worker with a
first-attempt success, aggregator, push), priced by `bench.capacity` from the whole items the handlers wrote,
read before and after each write (harness.Meter with sizing). Counters are amortized over the aggregator's
batches as the burst gives them: one batch per stream for BURST events (catalog batch size 1,000).

MIX weights the kinds into one figure for a session's realistic traffic (bench/README.md says why).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench import aws_requests, cost, prices
from bench import harness as h
from hub.platform import catalog

NAME = "capacity_billed"
BURST = aws_requests.BURST
MESSAGE_TEXT = (
    "Hi! Your order #48213 has shipped and should arrive on Thursday between 9:00 and 17:00. "
    "Track it at https://example.com/t/48213 and reply STOP to stop updates, or HELP if anything "
    "looks wrong with the address we have on file for you. Thanks for shopping with us today!"
)
"""A message body of a few hundred bytes (the issue's budgets assume one)."""


def _message(n: int) -> bytes:
    return h.message_body(n, MESSAGE_TEXT)


KINDS: dict[str, tuple[Callable[[int], bytes], str]] = {
    "message": (_message, "message_1_subscriber"),
    "ack": (h.ack_body, "message_1_subscriber"),
    "status_unchanged": (h.loading_body, "session_status_1_subscriber"),
    "status_change": (h.status_body, "session_status_1_subscriber"),
    "qr": (h.qr_body, "session_status_1_subscriber"),
}
"""Kind -> (body of the n-th event, the cost figure's scenario whose measured Lambda durations price it)."""

MIX: dict[str, float] = {"message": 0.45, "ack": 0.45, "status_unchanged": 0.06, "status_change": 0.03, "qr": 0.01}
"""A connected session's traffic: messages and their acks (90 %), status events (9 %: two thirds loading
progress, one third real changes), QR codes (1 %)."""

BUDGET_WRU: dict[str, float] = {"message": 3, "status_unchanged": 4, "status_change": 6, "qr": 6}
"""Issue 10's budgets (write units per inbound event, one subscriber, index writes included)."""


def _figures(summary: dict[str, Any]) -> dict[str, Any]:
    capacity = summary["capacity"]
    return {
        "dynamodb_write_units": capacity["dynamodb_write_units"],
        "dynamodb_write_units_tables_only": capacity["dynamodb_write_units_tables_only"],
        "dynamodb_write_units_if_index_entries_had_100_bytes_more": capacity[
            "dynamodb_write_units_if_index_entries_had_100_bytes_more"
        ],
        "dynamodb_read_units": capacity["dynamodb_read_units"],
        "sqs_requests": capacity["sqs_requests"],
        "deliveries": capacity["deliveries"],
        "write_units_by_table_and_index": summary["write_units_by_table_and_index"],
        "read_units_by_table_and_index": summary["read_units_by_table_and_index"],
        "invocations_per_event": summary["invocations_per_event"],
    }


COUNTER_BURSTS = (1, 10, BURST)
"""Bursts of messages (one per aggregator batch of each stream) that show how the counters amortize."""


def measure(burst: int = BURST) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Per kind, the billed capacity of one event (a burst of `burst` after one warm-up event); and the Counters
    write units per message by writer at each of COUNTER_BURSTS."""
    out: dict[str, dict[str, Any]] = {}
    with aws_requests.rig() as hub:
        for kind, (make_body, _) in KINDS.items():
            session = hub.session(f"bench-billed-{kind}")
            hub.measure(session, [make_body(0)])  # warm-up
            out[kind] = _figures(hub.measure(session, [make_body(n) for n in range(1, burst + 1)]))
        counters: dict[str, Any] = {}
        for size in COUNTER_BURSTS:
            session = hub.session(f"bench-counters-{size}")
            hub.measure(session, [_message(0)])
            units = hub.measure(session, [_message(n) for n in range(1, size + 1)])["write_units_by_item"]
            by_writer: dict[str, float] = {}
            for name, value in units.items():
                phase, _, table = name.split(".", 2)
                if table == "Counters":
                    by_writer[phase] = h.rounded(by_writer.get(phase, 0.0) + value)
            counters[str(size)] = by_writer
    return out, counters


def counters_summary(measured: dict[str, Any]) -> dict[str, Any]:
    """How the Counters writes amortize: the aggregator's per batch (from the largest burst), per message at the
    catalog's batch sizes, and the receiver's ingest-limit share."""
    trigger = next(t for f in catalog.FUNCTIONS if f.name == "aggregator" for t in f.stream_triggers)
    per_batch = measured[str(BURST)].get("aggregator", 0.0) * BURST
    return {
        "measured_per_message_by_burst": measured,
        "aggregator_write_units_per_batch": h.rounded(per_batch),
        "aggregator_batch_size": trigger.batch_size,
        "aggregator_batching_window_s": trigger.batching_window_s,
        "aggregator_per_message_by_events_per_batch": {
            str(n): h.rounded(per_batch / n, 4) for n in (1, 10, 100, trigger.batch_size)
        },
        "receiver_ingest_limit_per_message_busy_session": measured[str(BURST)].get("receiver", 0.0),
    }


def mix(by_kind: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """MIX's weighted mean of every number (nested ones too) of the kinds' figures."""

    def weighted(values: list[tuple[float, Any]]) -> Any:
        if isinstance(values[0][1], dict):
            keys = sorted({k for _, v in values for k in v})
            return {k: weighted([(w, v.get(k, 0.0)) for w, v in values]) for k in keys}
        return h.rounded(sum(w * v for w, v in values))

    return weighted([(MIX[kind], by_kind[kind]) for kind in MIX])


def dollars(figures: dict[str, Any], ms: dict[str, float]) -> dict[str, float]:
    """USD per million events: DynamoDB (writes, reads), and everything but API Gateway as the cost figure
    counts it (Lambda at the durations `ms`, SQS)."""
    capacity = {k: figures[k] for k in ("dynamodb_write_units", "dynamodb_read_units", "sqs_requests")}
    parts = cost.per_event(capacity, figures["invocations_per_event"], ms)
    return {
        "dynamodb_writes": h.rounded(parts["dynamodb_writes"] * 1e6, 4),
        "dynamodb_reads": h.rounded(parts["dynamodb_reads"] * 1e6, 4),
        "dynamodb": h.rounded((parts["dynamodb_writes"] + parts["dynamodb_reads"]) * 1e6, 4),
        "excluding_api_gateway": h.rounded(sum(parts.values()) * 1e6, 4),
        "with_http_api": h.rounded((sum(parts.values()) + prices.API_GATEWAY_HTTP_PER_REQUEST) * 1e6, 4),
    }


def run(results: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    print(
        f"capacity_billed_per_event (one subscriber, first-attempt success, bursts of {BURST} per kind after a "
        "warm-up event; every write priced on its table and on each index whose entry changed)"
    )
    by_kind, counters_measured = measure()
    by_kind["mix"] = mix(by_kind)
    counters = counters_summary(counters_measured)
    durations = (results.get("cost_inputs") or {}).get("ms_per_invocation") or {}
    usd: dict[str, Any] = {}
    for kind, figures in by_kind.items():
        scenario = KINDS[kind][1] if kind in KINDS else None
        ms = durations.get(scenario, {}) if scenario else {}
        if kind == "mix":
            usd[kind] = {k: h.rounded(sum(MIX[x] * usd[x][k] for x in MIX), 4) for k in usd["message"]}
        else:
            usd[kind] = dollars(figures, ms)
    targets = []
    for kind, figures in by_kind.items():
        wru = figures["dynamodb_write_units"]
        note = (
            f"(tables {figures['dynamodb_write_units_tables_only']:g}; with 100-byte index entries "
            f"{figures['dynamodb_write_units_if_index_entries_had_100_bytes_more']:g}) "
            f"RRU {figures['dynamodb_read_units']:g}, "
            f"DynamoDB ${usd[kind]['dynamodb']:.3f}/1M, excl. API GW ${usd[kind]['excluding_api_gateway']:.3f}/1M"
        )
        if kind in BUDGET_WRU:
            ok = wru <= BUDGET_WRU[kind]
            h.show_target(f"{kind} WRU", wru, f"<= {BUDGET_WRU[kind]:g}", ok)
            print(f"      {note}")
            targets.append(
                {
                    "name": f"capacity_billed_per_event.{kind}.dynamodb_write_units",
                    "value": wru,
                    "limit": BUDGET_WRU[kind],
                    "pass": ok,
                }
            )
        else:
            h.show(f"{kind} WRU", wru, "", note)
        for name, units in figures["write_units_by_table_and_index"].items():
            print(f"        {units:>7g} WRU  {name}")
    if not durations:
        print("  (no cost figure in results.json yet: the dollars leave Lambda compute out; run `cost` first)")
    print(
        f"  Counters: the aggregator writes {counters['aggregator_write_units_per_batch']:g} WRU per batch of one "
        f"session's messages (Events + Deliveries streams); per message at 1/10/100/"
        f"{counters['aggregator_batch_size']} messages a batch: "
        + ", ".join(f"{v:g}" for v in counters["aggregator_per_message_by_events_per_batch"].values())
        + f"; the ingest limit adds {counters['receiver_ingest_limit_per_message_busy_session']:g} per message "
        "of a busy session (none for a quiet one)"
    )
    return {
        "capacity_billed_per_event": by_kind,
        "cost_billed_usd_per_million_events": usd,
        "counters_write_units_per_event": counters,
    }, targets
