"""list_realtime_10k: what one `GET /api/whatsapp/session/list-realtime` reads for a tenant with 10,000 sessions.

Setup (not measured): SESSIONS session items written straight to the Sessions table with BatchWriteItem,
each built by `hub.sessions.store.to_item` from a `SessionRecord` (statuses spread over the five
buckets, owners over OWNERS users), and the tenant's and owners' summary counters written with
`hub.counters.aggregation.session_deltas` and `hub.counters.store.apply_once`, exactly what the aggregator would have left.

Then page-size-50 requests (summary included) through a real API Gateway event to the sessions handler:
PAGES pages of the unfiltered listing (following nextCursor), and a few filtered ones. Items read are
counted from moto's responses by botocore `after-call` hooks: Count/ScannedCount of each Query, 1 per GetItem
that returned an item (the API-key lookup and the summary counter included), 1 per item a BatchGetItem
returned (the page completed from the table: the indexes hold keys only). Read units are priced by
`bench.capacity` in a second pass over the same pages (a sizing meter; timings are taken without it). The
figures are medians over the unfiltered pages.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from bench import harness as h

NAME = "list_realtime"
SESSIONS = 10_000
OWNERS = 20
PAGE = 50
PAGES = 10
TARGET_ITEMS = 110
TARGET_READ_UNITS = 30

_STATUSES = ("session_connected", "qr_generated", "initializing", "error", "session_not_connected")


def _seed(tenant_id: str) -> None:
    """Writes SESSIONS sessions and the summary counters the aggregator would keep for them."""
    from hub.counters import aggregation as aggregating
    from hub.counters import store as counters
    from hub.ingest import state
    from hub.ingest.models import SessionStatus
    from hub.platform import ddb
    from hub.sessions import store as session_store
    from hub.sessions.models import SessionRecord

    client = h.side_client("dynamodb")
    table = ddb.name(session_store.TABLE)
    created = "2026-01-01T00:00:00.000Z"
    changes: list[tuple[str, None, dict[str, Any]]] = []
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        pending = {table: batch[:]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        batch.clear()

    for n in range(SESSIONS):
        status = SessionStatus(_STATUSES[n % len(_STATUSES)])
        bucket = state.bucket_of(status, status is SessionStatus.QR_GENERATED)
        record = SessionRecord(
            sessionId=f"bench-{n:05d}",
            tenantId=tenant_id,
            receiverHandle=f"rcv_bench_{n:05d}",  # listings never read the handle's lookup
            userId=f"user-{n % OWNERS}",
            createdAt=created,
            updatedAt=created,
            inboundSecret=f"whin_bench_{n:05d}_0123456789abcdef0123456789",
            status=status.value,
            bucket=bucket,
        )
        batch.append({"PutRequest": {"Item": session_store.to_item(record)}})
        if len(batch) == 25:
            flush()
        changes.append((session_store.TABLE.id, None, record.model_dump()))
    if batch:
        flush()
    counters.apply_once([("bench-seed", "0", aggregating.total(changes))], int(time.time()))  # one record's worth


def _request(api: h.Api, meter: h.Meter, key: str, query: str) -> tuple[dict[str, Any], float, int, Counter[str]]:
    meter.reset()
    started = time.perf_counter()
    reply = api.call("GET", f"/api/whatsapp/session/list-realtime?{query}", api_key=key)
    elapsed = (time.perf_counter() - started) * 1000
    if reply.status != 200:
        raise RuntimeError(f"list-realtime answered {reply.status}: {reply.raw[:300]!r}")
    calls = meter.snapshot()
    items = sum(c.items_read for c in calls)
    return reply.json, elapsed, items, Counter(c.name for c in calls)


def _read_units(api: h.Api, key: str, queries: list[str]) -> list[float]:
    """Read units of each request, priced by a sizing meter."""
    meter = h.Meter(sizing=True).attach()
    try:
        units = []
        for query in queries:
            _request(api, meter, key, query)
            units.append(sum(c.read_units for c in meter.snapshot()))
        return units
    finally:
        meter.detach()


def measure() -> dict[str, Any]:
    with h.embedded_aws():
        meter = h.Meter(sizing=False).attach()
        try:
            api = h.Api()
            h.silence_powertools_logs()
            tenant = api.create_tenant()
            started = time.perf_counter()
            _seed(tenant["tenantId"])
            setup_s = time.perf_counter() - started
            key = tenant["apiKey"]
            _request(api, meter, key, f"limit={PAGE}")  # warm-up (handler import)

            items, timings, queries, seen = [], [], [], 0
            cursor = None
            calls: Counter[str] = Counter()
            for _ in range(PAGES):
                query = f"limit={PAGE}" + (f"&cursor={cursor}" if cursor else "")
                queries.append(query)
                body, elapsed, read, by_call = _request(api, meter, key, query)
                if body["summary"]["total"] != SESSIONS:
                    raise RuntimeError(f"summary total {body['summary']['total']} != {SESSIONS}")
                seen += len(body["data"])
                items.append(read)
                timings.append(elapsed)
                calls = by_call
                cursor = body.get("nextCursor")
                if not cursor:
                    break
            filtered = {}
            for label, query in (
                ("status_connected", "status=connected"),
                ("user", "userId=user-3"),
                ("user_and_status", "userId=user-3&status=error"),
            ):
                body, elapsed, read, _ = _request(api, meter, key, f"limit={PAGE}&{query}")
                filtered[label] = {
                    "items_read": float(read),
                    "ms": h.rounded(elapsed, 1),
                    "returned": float(len(body["data"])),
                }
        finally:
            meter.detach()
        units = _read_units(api, key, queries)
    return {
        "list_realtime_10k": {
            "items_read_per_request": h.rounded(h.median(items), 1),
            "read_units_per_request": h.rounded(h.median(units), 2),
            "ms_per_request": h.rounded(h.median(timings), 1),
        },
        "list_realtime_10k_detail": {
            "sessions": float(SESSIONS),
            "page_size": float(PAGE),
            "pages_read": float(len(items)),
            "items_returned": float(seen),
            "setup_s": h.rounded(setup_s, 1),
            "requests_per_call": {k: float(v) for k, v in calls.items()},
            "filtered": filtered,
        },
    }


def run(results: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    print(
        f"list_realtime_10k (tenant with {SESSIONS:,} sessions, limit={PAGE}, summary included, "
        f"median over {PAGES} successive pages)"
    )
    measured = measure()
    figure, detail = measured["list_realtime_10k"], measured["list_realtime_10k_detail"]
    ok = figure["items_read_per_request"] <= TARGET_ITEMS
    h.show_target("items_read_per_request", figure["items_read_per_request"], f"<= {TARGET_ITEMS}", ok, "items")
    units_ok = figure["read_units_per_request"] <= TARGET_READ_UNITS
    h.show_target(
        "read_units_per_request", figure["read_units_per_request"], f"<= {TARGET_READ_UNITS}", units_ok, "RRU"
    )
    h.show("ms_per_request (in process, moto)", figure["ms_per_request"], "ms")
    print(
        f"    setup {detail['setup_s']:.1f} s; requests per listing call: "
        + ", ".join(f"{k} x{v:g}" for k, v in sorted(detail["requests_per_call"].items()))
    )
    for label, numbers in detail["filtered"].items():
        print(
            f"    filtered {label:<18} items read {numbers['items_read']:>5g}, returned {numbers['returned']:>3g}, "
            f"{numbers['ms']:.1f} ms"
        )
    return measured, [
        {
            "name": "list_realtime_10k.items_read_per_request",
            "value": figure["items_read_per_request"],
            "limit": float(TARGET_ITEMS),
            "pass": ok,
        },
        {
            "name": "list_realtime_10k.read_units_per_request",
            "value": figure["read_units_per_request"],
            "limit": float(TARGET_READ_UNITS),
            "pass": units_ok,
        },
    ]
