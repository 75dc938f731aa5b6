"""Aggregator: the Sessions, Events and Deliveries streams → summary, usage and stats counters (hub.aggregating).

Each record's deltas are computed on their own (one that cannot be is set aside into the aggregator's failure
queue, hub.stream_failures), then applied in groups, each transaction marking its group applied, so a batch
Lambda retries, however late, or a replay adds nothing twice (hub.store.counters.apply_once). Invoked with
`{"replay": {"maxMessages": n}}`, it replays what it set aside.
"""

from __future__ import annotations

from hub import coldstart  # first: the handler loads with the garbage collector off (hub.coldstart)

import time

from aws_lambda_powertools.metrics import MetricUnit

from hub import aggregating, catalog, stream_failures
from hub.observability import logger, metrics
from hub.store import counters

FAILURES = catalog.AGGREGATOR_FAILURES


def _log(message: str, change: stream_failures.Change, error: BaseException) -> None:
    logger.warning(message, extra={"eventID": change.event_id, "sequenceNumber": change.sequence_number,
                                   "table": change.table_id, "error": stream_failures.reason_of(error)})


def _replay(change: stream_failures.Change, _: stream_failures.SetAside) -> None:
    deltas = aggregating.deltas_of(change.table_id, change.old, change.new)
    if deltas:
        counters.apply_once([(change.event_id, change.sequence_number, deltas)], int(time.time()))


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    max_messages = stream_failures.replay_request(event)
    if max_messages is not None:
        report = stream_failures.replay(FAILURES, _replay, max_messages)
        metrics.add_metric(name=catalog.Metric.RECORDS_REPLAYED, unit=MetricUnit.Count, value=report.replayed)
        logger.info("replayed", extra=report.as_dict())
        return report.as_dict()

    changes = [stream_failures.Change.of(r) for r in event["Records"]]
    counted: dict[str, tuple[stream_failures.Change, aggregating.Deltas]] = {}

    def compute(change: stream_failures.Change) -> None:
        deltas = aggregating.deltas_of(change.table_id, change.old, change.new)
        if deltas:
            counted[change.event_id] = (change, deltas)

    outcome = stream_failures.process_in_order(changes, compute, FAILURES, _log)
    now = int(time.time())
    writes = 0
    for group in counters.chunks([(event_id, change.sequence_number, deltas)
                                  for event_id, (change, deltas) in counted.items()]):
        try:
            writes += counters.apply_once(group, now)
            continue
        except Exception as error:  # noqa: BLE001 - transient: retry from here; else find the record behind it
            if stream_failures.is_transient(error):
                _log("transient failure: retrying from this group", counted[group[0][0]][0], error)
                outcome.retry_from = counted[group[0][0]][0].sequence_number
                break
        # A failure of the group's own: its records one by one, the one that fails set aside.
        alone = stream_failures.process_in_order(
            [counted[event_id][0] for event_id, _, _ in group],
            lambda change: counters.apply_once([(change.event_id, change.sequence_number, counted[change.event_id][1])], now),
            FAILURES, _log,
        )
        outcome.set_aside += alone.set_aside
        if alone.retry_from:
            outcome.retry_from = alone.retry_from
            break
    metrics.add_metric(name=catalog.Metric.COUNTER_WRITES, unit=MetricUnit.Count, value=writes)
    metrics.add_metric(name=catalog.Metric.RECORDS_SET_ASIDE, unit=MetricUnit.Count, value=outcome.set_aside)
    logger.info("counters updated", extra={"records": len(changes), "counted": len(counted), "writes": writes,
                                           "setAside": outcome.set_aside, "retryFrom": outcome.retry_from})
    return outcome.response()


coldstart.loaded()
