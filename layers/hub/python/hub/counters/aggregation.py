"""Counters kept out of band: the deltas each table change makes to the Counters table.

The aggregator reads the streams of the Sessions, Events and Deliveries tables and turns
every change (old image -> new image) into counter deltas, summed over a whole batch, so
a busy tenant costs one counter write per batch, not one per event:

- Sessions: the (status, bucket) pair a session counts in, for its tenant and its owner
  (the list-realtime summary). Insert adds it, remove takes it away, a modify moves it.
- Events: `eventsReceived` per tenant and day, for each newly recorded event.
- Deliveries: `deliveriesAttempted` / `deliveriesSucceeded` per tenant and day from the
  attempts a change adds, and the per-day stats (`total`, `success`/`failed`, `ev#<event>`)
  of the instance and of the whole tenant when a delivery enters a final status; a
  manual retry, which takes a delivery out of its final status, takes its stats back.

Deltas depend only on the images, never on how often a write happened, so a write the
receiver repeats (same state) counts nothing. Each stream record is applied at most once, however
often Lambda delivers it (hub.counters.store.apply_once); one whose deltas cannot be computed is
set aside (hub.platform.stream_failures).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from hub.counters import store as counters
from hub.ingest import store as event_store
from hub.platform import catalog, stream_failures
from hub.platform.stream_failures import Change, Logging, Outcome

Image = dict[str, Any]
CounterKey = tuple[str, str]
Deltas = dict[CounterKey, Counter]

FINAL_STATUSES = ("success", "failed")


def _add(deltas: Deltas, key: dict[str, str], values: dict[str, int]) -> None:
    deltas[(key["pk"], key["sk"])].update(values)


def session_deltas(old: Image | None, new: Image | None) -> Deltas:
    deltas: Deltas = defaultdict(Counter)
    for image, sign in ((old, -1), (new, 1)):
        if image:
            pair = counters.pair(image["status"], image["bucket"])
            for key in counters.summary_keys(image["tenantId"], image["userId"]):
                _add(deltas, key, {pair: sign})
    return deltas


def event_deltas(old: Image | None, new: Image | None) -> Deltas:
    deltas: Deltas = defaultdict(Counter)
    if event_store.newly_recorded(old, new):
        assert new is not None
        _add(deltas, counters.usage_key(event_store.tenant_of(new), new["receivedAt"][:10]), {"eventsReceived": 1})
    return deltas


def _final(image: Image | None) -> str | None:
    return image["status"] if image and image.get("status") in FINAL_STATUSES else None


def delivery_deltas(old: Image | None, new: Image | None) -> Deltas:
    deltas: Deltas = defaultdict(Counter)
    if not new:
        return deltas
    attempted = int(new.get("attempts", 0)) - int((old or {}).get("attempts", 0))
    succeeded = int(new["status"] == "success" and attempted > 0)
    if attempted > 0:
        day = new["updatedAt"][:10]
        _add(
            deltas,
            counters.usage_key(new["tenantId"], day),
            {"deliveriesAttempted": attempted, "deliveriesSucceeded": succeeded},
        )
    before, after = _final(old), _final(new)
    if before != after:
        if before and old:
            for key in counters.stats_keys(old["tenantId"], old["instanceId"], old["updatedAt"][:10]):
                _add(deltas, key, counters.outcome_deltas(before, old["event"], sign=-1))
        if after:
            for key in counters.stats_keys(new["tenantId"], new["instanceId"], new["updatedAt"][:10]):
                _add(deltas, key, counters.outcome_deltas(after, new["event"]))
    return deltas


DELTAS_BY_TABLE = {
    catalog.SESSIONS.id: session_deltas,
    catalog.EVENTS.id: event_deltas,
    catalog.DELIVERIES.id: delivery_deltas,
}


def deltas_of(table_id: str, old: Image | None, new: Image | None) -> Deltas:
    """The non-zero deltas of one change."""
    return total([(table_id, old, new)])


def total(changes: Iterable[tuple[str, Image | None, Image | None]]) -> Deltas:
    """The summed, non-zero deltas of (table id, old image, new image) changes."""
    summed: Deltas = defaultdict(Counter)
    for table_id, old, new in changes:
        for key, values in DELTAS_BY_TABLE[table_id](old, new).items():
            summed[key].update(values)
    return {
        key: Counter({k: v for k, v in values.items() if v}) for key, values in summed.items() if any(values.values())
    }


def apply_batch(changes: list[Change], failures: catalog.FailureQueue, log: Logging) -> tuple[Outcome, int]:
    """Counts a stream batch, each record at most once (hub.counters.store.apply_once), in stream order; returns
    the outcome (what was set aside, where Lambda must retry from) and the write requests made.

    A record whose deltas cannot be computed is set aside; a group whose transaction fails transiently stops the
    batch at its first record (the groups before it are applied); a group DynamoDB refuses for another reason is
    applied record by record, the one that fails set aside.
    """
    counted: dict[str, tuple[Change, Deltas]] = {}

    def compute(change: Change) -> None:
        deltas = deltas_of(change.table_id, change.old, change.new)
        if deltas:
            counted[change.event_id] = (change, deltas)

    def apply_alone(change: Change) -> None:
        counters.apply_once([(change.event_id, change.sequence_number, counted[change.event_id][1])], now)

    outcome = stream_failures.process_in_order(changes, compute, failures, log)
    now = int(time.time())
    writes = 0
    for group in counters.chunks(
        [(event_id, change.sequence_number, deltas) for event_id, (change, deltas) in counted.items()]
    ):
        first = counted[group[0][0]][0]
        try:
            writes += counters.apply_once(group, now)
            continue
        except Exception as error:  # noqa: BLE001 - transient: retry from here; else find the record behind it
            if stream_failures.is_transient(error):
                log("transient failure: retrying from this group", first, error)
                outcome.retry_from = first.sequence_number
                break
        alone = stream_failures.process_in_order(
            [counted[event_id][0] for event_id, _, _ in group], apply_alone, failures, log
        )
        outcome.set_aside += alone.set_aside
        if alone.retry_from:
            outcome.retry_from = alone.retry_from
            break
    return outcome, writes


def replay_record(change: Change) -> None:
    """Counts a set-aside record, at most once (a group of its own, marked by its own eventID)."""
    deltas = deltas_of(change.table_id, change.old, change.new)
    if deltas:
        counters.apply_once([(change.event_id, change.sequence_number, deltas)], int(time.time()))


def replay_batch(changes: list[Change], failures: catalog.FailureQueue, log: Logging) -> None:
    """Counts a batch Lambda gave up on, read back from the stream, as Lambda's retry of it would."""
    outcome, _ = apply_batch(changes, failures, log)
    if outcome.retry_from:
        raise stream_failures.Transient(f"stopped at record {outcome.retry_from}: replay again later")
