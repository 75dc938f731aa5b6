"""Dispatcher: the Events table's stream → one delivery message per target subscription (hub.delivery.dispatching).

Records are handled one by one (hub.platform.stream_failures): one the dispatcher can never send is set aside into
its failure queue and the batch goes on; an outage stops the batch at that record, reported to Lambda as a
partial batch failure. Invoked with `{"replay": {"maxMessages": n}}`, it replays what it set aside.
"""

from __future__ import annotations

from hub.platform import coldstart  # first: the handler loads with the garbage collector off (hub.platform.coldstart)

# isort: split

from aws_lambda_powertools.metrics import MetricUnit

from hub.delivery import dispatching
from hub.platform import catalog, stream_failures
from hub.platform.observability import logger, metrics

FAILURES = catalog.DISPATCHER_FAILURES


def _log(message: str, change: stream_failures.Change, error: BaseException) -> None:
    logger.warning(
        message,
        extra={
            "eventID": change.event_id,
            "sequenceNumber": change.sequence_number,
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
            lambda change, aside: dispatching.replay(change, aside.webhookIds),
            max_messages,
            lambda changes: [dispatching.replay(change) for change in changes],
        )
        metrics.add_metric(name=catalog.Metric.RECORDS_REPLAYED, unit=MetricUnit.Count, value=report.replayed)
        logger.info("replayed", extra=report.as_dict())
        return report.as_dict()
    changes = [stream_failures.Change.of(r) for r in event["Records"]]
    outcome, queued = dispatching.dispatch(changes, FAILURES, _log)
    metrics.add_metric(name=catalog.Metric.DELIVERIES_QUEUED, unit=MetricUnit.Count, value=queued)
    metrics.add_metric(name=catalog.Metric.RECORDS_SET_ASIDE, unit=MetricUnit.Count, value=outcome.set_aside)
    logger.info(
        "events dispatched",
        extra={
            "records": len(changes),
            "deliveriesQueued": queued,
            "setAside": outcome.set_aside,
            "retryFrom": outcome.retry_from,
        },
    )
    return outcome.response()


coldstart.loaded()
