"""Counters table: session summaries per tenant and per owner, and per-day usage.

Summary items count sessions per (status, bucket) pair (`sb#<status>#<bucket>`),
so the summary of any status or bucket filter is a sum over at most a dozen numbers,
kept exact by adding the deltas in the same transaction as each state change.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

from hub import catalog, state
from hub.store import ddb

TABLE = catalog.COUNTERS
USAGE_FIELDS = ("eventsReceived", "deliveriesAttempted", "deliveriesSucceeded")


def tenant_pk(tenant_id: str) -> str:
    return f"tenant#{tenant_id}"


def summary_keys(tenant_id: str, user_id: str) -> list[dict[str, str]]:
    """The two summary items a session counts in: its tenant's and its owner's."""
    return [
        {"pk": tenant_pk(tenant_id), "sk": "summary"},
        {"pk": tenant_pk(tenant_id), "sk": f"summary#user#{user_id}"},
    ]


def pair(status: str, bucket: str) -> str:
    return f"sb#{status}#{bucket}"


def add_items(key: dict[str, str], deltas: dict[str, int]) -> dict[str, Any]:
    """A transaction Update adding `deltas` to the counters of one item."""
    deltas = {name: delta for name, delta in deltas.items() if delta}
    names = {f"#c{i}": name for i, name in enumerate(deltas)}
    return {"Update": {
        "TableName": ddb.name(TABLE),
        "Key": ddb.to_item(key),
        "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(deltas))),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {f":c{i}": ddb.to_value(d) for i, d in enumerate(deltas.values())},
    }}


def summary_updates(tenant_id: str, user_id: str, deltas: dict[str, int]) -> list[dict[str, Any]]:
    if not any(deltas.values()):
        return []
    return [add_items(key, deltas) for key in summary_keys(tenant_id, user_id)]


def transition_deltas(before: tuple[str, str] | None, after: tuple[str, str] | None) -> dict[str, int]:
    """Counter deltas for a session moving from one (status, bucket) pair to another."""
    deltas: Counter[str] = Counter()
    if before:
        deltas[pair(*before)] -= 1
    if after:
        deltas[pair(*after)] += 1
    return {k: v for k, v in deltas.items() if v}


def usage_key(tenant_id: str, day: str) -> dict[str, str]:
    return {"pk": tenant_pk(tenant_id), "sk": f"usage#{day}"}


def read_summary(tenant_id: str, user_id: str | None, status_filter: str | None) -> dict[str, int]:
    """The seed 001 summary for the tenant's sessions (optionally one owner's), filtered."""
    sk = "summary" if user_id is None else f"summary#user#{user_id}"
    item = ddb.client().get_item(
        TableName=ddb.name(TABLE), Key=ddb.to_item({"pk": tenant_pk(tenant_id), "sk": sk}), ConsistentRead=True
    ).get("Item")
    counts = ddb.from_item(item) if item else {}
    summary = {bucket: 0 for bucket in state.BUCKETS}
    for name, count in counts.items():
        if not name.startswith("sb#"):
            continue
        _, status, bucket = name.split("#", 2)
        if status_filter in (None, status, bucket):
            summary[bucket] += int(count)
    summary["total"] = sum(summary[b] for b in state.BUCKETS)
    return summary


def read_usage(tenant_id: str, first_day: str, last_day: str) -> list[dict[str, Any]]:
    response = ddb.client().query(
        TableName=ddb.name(TABLE),
        KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
        ExpressionAttributeValues=ddb.values(pk=tenant_pk(tenant_id), first=f"usage#{first_day}", last=f"usage#{last_day}"),
    )
    return [ddb.from_item(item) for item in response["Items"]]


def usage_days(items: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    return {
        item["sk"].split("#", 1)[1]: {field: int(item.get(field, 0)) for field in USAGE_FIELDS}
        for item in items
    }


ALL_INSTANCES = "*"


def _stats_sk(instance_id: str, day: str) -> str:
    return f"stats#{instance_id}#{day}"


def outcome_deltas(status: str, event: str, sign: int = 1) -> dict[str, int]:
    """Stats counted when a delivery ends (or, with sign -1, un-counted when it is retried)."""
    return {"total": sign, status: sign, f"ev#{event}": sign}


def stats_updates(tenant_id: str, instance_id: str, day: str, deltas: dict[str, int]) -> list[dict[str, Any]]:
    """Adds to the per-day delivery stats of the instance and of the whole tenant."""
    return [
        add_items({"pk": tenant_pk(tenant_id), "sk": _stats_sk(instance, day)}, deltas)
        for instance in (instance_id, ALL_INSTANCES)
    ]


def read_stats(tenant_id: str, instance_id: str | None, first_day: str, last_day: str) -> list[dict[str, Any]]:
    """The per-day stats items of the period for one instance or the whole tenant: one query, at most a row a day."""
    instance = instance_id or ALL_INSTANCES
    response = ddb.client().query(
        TableName=ddb.name(TABLE),
        KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
        ExpressionAttributeValues=ddb.values(
            pk=tenant_pk(tenant_id), first=_stats_sk(instance, first_day), last=_stats_sk(instance, last_day),
        ),
    )
    return [ddb.from_item(item) for item in response["Items"]]
