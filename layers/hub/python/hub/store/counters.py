"""Counters table: session summaries per tenant and per owner, per-day usage and delivery stats.

Summary items count sessions per (status, bucket) pair (`sb#<status>#<bucket>`),
so the summary of any status or bucket filter is a sum over at most a dozen numbers.
Only the aggregator writes counters (`apply_once`), from the tables' streams (see hub.aggregating), each
stream record at most once (its marker item, written in the same transaction).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Iterable, Mapping

from botocore.exceptions import ClientError

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


def add_items(key: dict[str, str], deltas: Mapping[str, int]) -> dict[str, Any]:
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


MAX_TRANSACTION_ITEMS = 100
"""DynamoDB's limit on the items of one TransactWriteItems."""

MARKER_RETENTION_S = (catalog.AGGREGATOR_FAILURES.retention_days + 2) * 24 * 3600
"""How long a record's applied marker is kept: longer than Lambda may retry it (the stream keeps it 24 h)
plus the failure queue's retention (a set-aside record may be replayed until then), with a day to spare."""


def _marker_pk(record_id: str) -> str:
    return f"applied#{record_id}"


def marker_item(record_id: str, expires_at: int) -> dict[str, Any]:
    """A transaction Put recording that a stream record's deltas are applied; fails if it already was."""
    return {"Put": {
        "TableName": ddb.name(TABLE),
        "Item": ddb.to_item({"pk": _marker_pk(record_id), "sk": "applied", "expiresAt": expires_at}),
        "ConditionExpression": "attribute_not_exists(pk)",
    }}


Changes = list[tuple[str, Mapping[tuple[str, str], Mapping[str, int]]]]
"""(stream record id, that record's deltas) in stream order."""


def chunks(changes: Changes) -> list[Changes]:
    """Consecutive records grouped so that each group's markers and counter items fit one transaction."""
    groups: list[Changes] = []
    keys: set[tuple[str, str]] = set()
    for record_id, deltas in changes:
        if len(deltas) + 1 > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"record {record_id} changes {len(deltas)} counter items: more than one transaction holds")
        if not groups or len(groups[-1]) + len(keys | set(deltas)) + 1 > MAX_TRANSACTION_ITEMS:
            groups.append([])
            keys = set()
        groups[-1].append((record_id, deltas))
        keys |= set(deltas)
    return groups


def apply_once(group: Changes, now: int) -> int:
    """Adds a group's deltas and records each of its records as applied, in one transaction: all or nothing.

    A record already applied (its marker exists: a batch Lambda retried, whenever, or a replay) cancels the
    transaction; the group is written again without it. Returns the number of write requests.
    Cost: one marker write per record that changes a counter (about as many as the counter writes
    themselves: a record touches 1 to 5 counter items, summed per group), twice the write units each as
    every transactional write; records that change no counter (most Events and Deliveries updates) write
    nothing. At 1 KB, a group of 50 records and 50 counter items costs 200 write units.
    """
    requests = 0
    while group:
        summed: dict[tuple[str, str], Counter] = defaultdict(Counter)
        for _, deltas in group:
            for key, values in deltas.items():
                summed[key].update(values)
        updates = {key: values for key, values in summed.items() if any(values.values())}
        try:
            ddb.client().transact_write_items(TransactItems=[
                *(marker_item(record_id, now + MARKER_RETENTION_S) for record_id, _ in group),
                *(add_items({"pk": pk, "sk": sk}, values) for (pk, sk), values in sorted(updates.items())),
            ])
            return requests + 1
        except ClientError as error:
            requests += 1
            applied = [record_id for (record_id, _), code in zip(group, ddb.cancellation_codes(error))
                       if code == "ConditionalCheckFailed"]
            if not applied:
                raise
            group = [(record_id, deltas) for record_id, deltas in group if record_id not in applied]
    return requests


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


def stats_keys(tenant_id: str, instance_id: str, day: str) -> list[dict[str, str]]:
    """The per-day delivery stats items a delivery counts in: its instance's and its whole tenant's."""
    return [{"pk": tenant_pk(tenant_id), "sk": _stats_sk(instance, day)} for instance in (instance_id, ALL_INSTANCES)]


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
