"""Aggregator: the Sessions, Events and Deliveries streams → summary, usage and stats counters (hub.counters.aggregation).

Each record's deltas are computed on their own (one that cannot be is set aside into the aggregator's failure
queue, hub.platform.stream_failures), then applied in groups, each transaction marking its group applied, so a batch
Lambda retries, however late, or a replay adds nothing twice (hub.counters.store.apply_once). Invoked with
`{"replay": {"maxMessages": n}}`, it replays what it set aside.
"""

from __future__ import annotations

from hub.platform import coldstart  # first: the handler loads with the garbage collector off (hub.platform.coldstart)

# isort: split

from aws_lambda_powertools.metrics import MetricUnit

from hub.counters import aggregation as aggregating
from hub.platform import catalog, stream_failures
from hub.platform.observability import logger, metrics

FAILURES = catalog.AGGREGATOR_FAILURES


def _log(message: str, change: stream_failures.Change, error: BaseException) -> None:
    logger.warning(
        message,
        extra={
            "eventID": change.event_id,
            "sequenceNumber": change.sequence_number,
            "table": change.table_id,
            "error": stream_failures.reason_of(error),
        },
    )


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    max_messages = stream_failures.replay_request(event)
    if max_messages is not None:
        report = stream_failures.replay(
            FAILURES,
            lambda change, _: aggregating.replay_record(change),
            max_messages,
            lambda changes: aggregating.replay_batch(changes, FAILURES, _log),
        )
        metrics.add_metric(name=catalog.Metric.RECORDS_REPLAYED, unit=MetricUnit.Count, value=report.replayed)
        logger.info("replayed", extra=report.as_dict())
        return report.as_dict()
    changes = [stream_failures.Change.of(r) for r in event["Records"]]
    outcome, writes = aggregating.apply_batch(changes, FAILURES, _log)
    metrics.add_metric(name=catalog.Metric.COUNTER_WRITES, unit=MetricUnit.Count, value=writes)
    metrics.add_metric(name=catalog.Metric.RECORDS_SET_ASIDE, unit=MetricUnit.Count, value=outcome.set_aside)
    logger.info(
        "counters updated",
        extra={
            "records": len(changes),
            "writes": writes,
            "setAside": outcome.set_aside,
            "retryFrom": outcome.retry_from,
        },
    )
    return outcome.response()


coldstart.loaded()
