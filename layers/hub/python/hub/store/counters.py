"""Counters table: session summaries per tenant and per owner, per-day usage and delivery stats.

Summary items count sessions per (status, bucket) pair (`sb#<status>#<bucket>`),
so the summary of any status or bucket filter is a sum over at most a dozen numbers.
Only the aggregator writes counters (`apply`), from the tables' streams (see hub.aggregating).
"""

from __future__ import annotations

import hashlib
from typing import Any, Iterable, Mapping

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


def apply(deltas: Mapping[tuple[str, str], Mapping[str, int]], batch_id: str) -> int:
    """Adds the deltas of one batch, at most once; returns the number of write requests.

    Each chunk of up to 100 counter items is one transaction whose ClientRequestToken is
    derived from `batch_id` (the batch's stream sequence range) and the chunk's position,
    so a batch that Lambda retries after a partial failure adds nothing twice (DynamoDB
    keeps a token's outcome for 10 minutes).
    """
    keys = sorted(deltas)
    requests = 0
    for start in range(0, len(keys), MAX_TRANSACTION_ITEMS):
        chunk = keys[start:start + MAX_TRANSACTION_ITEMS]
        token = hashlib.sha256(f"{batch_id}#{start}".encode()).hexdigest()[:36]
        ddb.client().transact_write_items(
            TransactItems=[add_items({"pk": pk, "sk": sk}, deltas[(pk, sk)]) for pk, sk in chunk],
            ClientRequestToken=token,
        )
        requests += 1
    return requests


def usage_key(tenant_id: str, day: str) -> dict[str, str]:
    return {"pk": tenant_pk(tenant_id), "sk": f"usage#{day}"}


def read_summary(tenant_id: str, user_id: str | None, status_filter: str | None) -> dict[str, int]:
    """The list-realtime summary (docs/contract.md §5) for the tenant's sessions (optionally one owner's), filtered."""
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
