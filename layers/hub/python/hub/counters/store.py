"""Counters table: session summaries per tenant and per owner, per-day usage and delivery stats.

Summary items count sessions per (status, bucket) pair (`sb#<status>#<bucket>`),
so the summary of any status or bucket filter is a sum over at most a dozen numbers.
Only the aggregator writes counters (`apply_once`), from the tables' streams (see hub.counters.aggregation), each
stream record at most once (a marker item written in the same transaction). The receiver's ingest limit
windows (`rate#` items, hub.ingest.limits_store) share the table.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from hub.ingest import state
from hub.platform import catalog, ddb

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
    return {
        "Update": {
            "TableName": ddb.name(TABLE),
            "Key": ddb.to_item(key),
            "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(deltas))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {f":c{i}": ddb.to_value(d) for i, d in enumerate(deltas.values())},
        }
    }


MAX_TRANSACTION_ITEMS = 100
"""DynamoDB's limit on the items of one TransactWriteItems."""

MARKER_RETENTION_S = (catalog.AGGREGATOR_FAILURES.retention_days + 2) * 24 * 3600
"""How long a group's applied marker is kept: longer than Lambda may retry a batch (the stream keeps it 24 h)
plus the failure queue's retention (a set-aside record may be replayed until then), with a day to spare."""

Changes = list[tuple[str, str, Mapping[tuple[str, str], Mapping[str, int]]]]
"""(stream record id, its sequence number, its deltas) of one shard, in stream order."""


def _marker_key(record_id: str) -> dict[str, str]:
    return {"pk": f"applied#{record_id}", "sk": "applied"}


def chunks(changes: Changes) -> list[Changes]:
    """Consecutive records grouped so that each group's marker and counter items fit one transaction.

    Greedy from the first record: a batch that starts at the same record is cut into the same groups, as far
    as the shorter of the two goes (what makes a group's marker recognize a retried batch).
    """
    groups: list[Changes] = []
    keys: set[tuple[str, str]] = set()
    for record_id, sequence, deltas in changes:
        if len(deltas) + 1 > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"record {record_id} changes {len(deltas)} counter items: more than one transaction holds")
        if not groups or len(keys | set(deltas)) + 1 > MAX_TRANSACTION_ITEMS:
            groups.append([])
            keys = set()
        groups[-1].append((record_id, sequence, deltas))
        keys |= set(deltas)
    return groups


def _applied_through(record_id: str) -> int:
    item = (
        ddb.client()
        .get_item(TableName=ddb.name(TABLE), Key=ddb.to_item(_marker_key(record_id)), ConsistentRead=True)
        .get("Item")
    )
    return int(ddb.from_item(item)["through"]) if item else -1


def apply_once(group: Changes, now: int) -> int:
    """Adds a group's summed deltas, at most once; returns the number of requests.

    One transaction writes the counters and a marker of the group, keyed by its first record and holding its
    last sequence number, on condition that the marker is new. Lambda retries a stream batch from the record
    it stopped at (the aggregator does not bisect), so a retried batch, however late, starts with a group
    already marked: it is written again with only the records past the marker's sequence number. A
    ClientRequestToken would recognize a retry for 10 minutes only.
    Cost: one marker item per group (per up to 99 counter items; a burst of records shares a few), two write
    units as every transactional write; records that change no counter write nothing.
    """
    requests = 0
    while group:
        summed: dict[tuple[str, str], Counter] = defaultdict(Counter)
        for _, _, deltas in group:
            for key, values in deltas.items():
                summed[key].update(values)
        updates = {key: values for key, values in summed.items() if any(values.values())}
        first_id, last_sequence = group[0][0], group[-1][1]
        marker = ddb.to_item({**_marker_key(first_id), "through": last_sequence, "expiresAt": now + MARKER_RETENTION_S})
        try:
            ddb.client().transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": ddb.name(TABLE),
                            "Item": marker,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    *(add_items({"pk": pk, "sk": sk}, values) for (pk, sk), values in sorted(updates.items())),
                ]
            )
            return requests + 1
        except ClientError as error:
            if ddb.cancellation_codes(error)[:1] != ["ConditionalCheckFailed"]:
                raise
        through = _applied_through(first_id)
        requests += 2
        group = [change for change in group if int(change[1]) > through]
    return requests


def delete_summaries() -> int:
    """Deletes every summary item (a migration rebuilds them from the copied sessions); returns how many."""
    keys = [
        ddb.from_item(item)
        for page in ddb.client()
        .get_paginator("scan")
        .paginate(
            TableName=ddb.name(TABLE),
            FilterExpression="begins_with(sk, :summary)",
            ExpressionAttributeValues=ddb.values(summary="summary"),
            ProjectionExpression="pk, sk",
        )
        for item in page["Items"]
    ]
    ddb.write_batch(TABLE, deletes=keys)
    return len(keys)


def usage_key(tenant_id: str, day: str) -> dict[str, str]:
    return {"pk": tenant_pk(tenant_id), "sk": f"usage#{day}"}


def read_summary(tenant_id: str, user_id: str | None, status_filter: str | None) -> dict[str, int]:
    """The list-realtime summary (docs/contract.md §5) for the tenant's sessions (optionally one owner's), filtered."""
    sk = "summary" if user_id is None else f"summary#user#{user_id}"
    item = (
        ddb.client()
        .get_item(
            TableName=ddb.name(TABLE), Key=ddb.to_item({"pk": tenant_pk(tenant_id), "sk": sk}), ConsistentRead=True
        )
        .get("Item")
    )
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
        ExpressionAttributeValues=ddb.values(
            pk=tenant_pk(tenant_id), first=f"usage#{first_day}", last=f"usage#{last_day}"
        ),
    )
    return [ddb.from_item(item) for item in response["Items"]]


def usage_days(items: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    return {item["sk"].split("#", 1)[1]: {field: int(item.get(field, 0)) for field in USAGE_FIELDS} for item in items}


ALL_INSTANCES = "*"


def _stats_key(tenant_id: str, instance_id: str, day: str) -> dict[str, str]:
    """A per-day stats item: the whole tenant's in the tenant's partition; an instance's in a partition of its own,
    so that an aggregator batch touching many of a tenant's instances does not pile their writes on one key
    (bench/README.md, hot_keys)."""
    pk = tenant_pk(tenant_id) if instance_id == ALL_INSTANCES else f"stats#{tenant_id}#{instance_id}"
    return {"pk": pk, "sk": f"stats#{instance_id}#{day}"}


def outcome_deltas(status: str, event: str, sign: int = 1) -> dict[str, int]:
    """Stats counted when a delivery ends (or, with sign -1, un-counted when it is retried)."""
    return {"total": sign, status: sign, f"ev#{event}": sign}


def stats_keys(tenant_id: str, instance_id: str, day: str) -> list[dict[str, str]]:
    """The per-day delivery stats items a delivery counts in: its instance's and its whole tenant's."""
    return [_stats_key(tenant_id, instance, day) for instance in (instance_id, ALL_INSTANCES)]


def read_stats(tenant_id: str, instance_id: str | None, first_day: str, last_day: str) -> list[dict[str, Any]]:
    """The per-day stats items of the period for one instance or the whole tenant: one query, at most a row a day."""
    instance = instance_id or ALL_INSTANCES
    first, last = _stats_key(tenant_id, instance, first_day), _stats_key(tenant_id, instance, last_day)
    response = ddb.client().query(
        TableName=ddb.name(TABLE),
        KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
        ExpressionAttributeValues=ddb.values(pk=first["pk"], first=first["sk"], last=last["sk"]),
    )
    return [ddb.from_item(item) for item in response["Items"]]
