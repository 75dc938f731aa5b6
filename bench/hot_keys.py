"""hot_keys: how many events per second one session and one tenant sustain before one partition key reaches
DynamoDB's per-partition limits (1,000 write units and 3,000 read units per second), from capacity_billed's units.

Every unit capacity_billed counts for a table or index lands on one partition key, which is one session's, one
tenant's (or one tenant shard's), or spread: the key each lands on is in KEYS below. A key's events per second =
limit / its units per event; for a tenant-sharded key, times the shards, when the tenant's sessions spread over
them (a single session's events all land on one shard). Reads by the same rule, at 3,000. Counters are left out
of the per-event keys: they are written per aggregator batch, not per event (capacity_billed's
`counters_write_units_per_event`), each item once per batch whatever the batch holds; `counters` repeats that
figure (bench/README.md says which of its items share the tenant's key).
"""

from __future__ import annotations

from typing import Any

from bench import harness as h
from hub.delivery import store as delivery_store

NAME = "hot_keys"
WRITE_LIMIT = 1000
READ_LIMIT = 3000
KINDS = ("message", "status_change", "qr", "mix")

KEYS: dict[str, tuple[str, str, int]] = {
    "Events": ("session", "sessionKey: the session's events", 1),
    "Sessions": ("session", "sessionKey: the session item", 1),
    "Deliveries": ("session", "instanceKey: the instance's logs", 1),
    "Deliveries.byTenantKeys": (
        "tenant",
        f"tenantShard: one of the tenant's {delivery_store.TENANT_SHARDS} shards",
        delivery_store.TENANT_SHARDS,
    ),
    "Sessions.byTenantList": ("tenant", "tenantId: the tenant's list index partition", 1),
    "Sessions.byOwnerKeys": ("tenant", "ownerKey: the owner's list (written at registration only)", 1),
}
"""Table or index -> (whose key, the key, shards a busy tenant spreads over)."""


def limits(by_kind: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in KINDS:
        figures = by_kind[kind]
        keys: dict[str, Any] = {}
        for name, units in figures["write_units_by_table_and_index"].items():
            if name not in KEYS or not units:
                continue
            scope, key, shards = KEYS[name]
            keys[name] = {
                "scope": scope,
                "key": key,
                "write_units_per_event": units,
                "events_per_second": h.rounded(WRITE_LIMIT / units, 0),
                **(
                    {"events_per_second_spread_over_shards": h.rounded(WRITE_LIMIT * shards / units, 0)}
                    if shards > 1
                    else {}
                ),
            }
        for name, units in figures["read_units_by_table_and_index"].items():
            if name in KEYS and units:
                keys.setdefault(name, {"scope": KEYS[name][0], "key": KEYS[name][1]})
                keys[name]["read_units_per_event"] = units
                keys[name]["events_per_second_by_reads"] = h.rounded(READ_LIMIT / units, 0)
        for figures_of_key in keys.values():
            figures_of_key["events_per_second_limit"] = min(
                figures_of_key.get(
                    "events_per_second_spread_over_shards", figures_of_key.get("events_per_second", float("inf"))
                ),
                figures_of_key.get("events_per_second_by_reads", float("inf")),
            )
        out[kind] = {"keys": keys}
        for scope in ("session", "tenant"):
            limit, name = min((v["events_per_second_limit"], n) for n, v in keys.items() if v["scope"] == scope)
            out[kind][f"one_{scope}_events_per_second"] = limit
            out[kind][f"one_{scope}_first_limit"] = name
    return out


def run(results: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    by_kind = results.get("capacity_billed_per_event")
    if not by_kind:
        print("hot_keys: needs capacity_billed's figures (run `python -m bench capacity_billed hot_keys`)")
        return {}, []
    out = limits(by_kind)
    print(f"hot_keys (events/s before one key reaches {WRITE_LIMIT:,} WCU/s or {READ_LIMIT:,} RCU/s)")
    for kind, figures in list(out.items()):
        h.show(
            f"{kind}: one session / one tenant",
            figures["one_session_events_per_second"],
            "ev/s",
            f"/ {figures['one_tenant_events_per_second']:g} ev/s (first: {figures['one_session_first_limit']}, "
            f"{figures['one_tenant_first_limit']})",
        )
    counters = results.get("counters_write_units_per_event") or {}
    out["counters"] = {
        "aggregator_write_units_per_batch": counters.get("aggregator_write_units_per_batch"),
        "receiver_ingest_limit_per_message_busy_session": counters.get(
            "receiver_ingest_limit_per_message_busy_session"
        ),
    }
    return {"hot_keys": out}, []
