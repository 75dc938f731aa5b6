"""Delivery worker: SQS batch → concurrent signed deliveries, partial batch failures for retries."""

from __future__ import annotations

from hub.platform import coldstart  # first: the handler loads with the garbage collector off (hub.platform.coldstart)

# isort: split

import asyncio
import contextvars
from concurrent.futures import ThreadPoolExecutor

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType, async_process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from hub.delivery import sender
from hub.delivery import worker as delivering
from hub.platform import catalog
from hub.platform.observability import logger, make_tracer, metrics

tracer = make_tracer()
processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
executor = ThreadPoolExecutor(max_workers=sender.POOL_SIZE)

METRIC_BY_OUTCOME = {
    delivering.Outcome.DELIVERED: catalog.Metric.DELIVERY_SUCCEEDED,
    delivering.Outcome.FAILED: catalog.Metric.DELIVERY_FAILED,
    delivering.Outcome.PARKED: catalog.Metric.DELIVERY_UNPARSEABLE,
}


def _deliver(record: SQSRecord, first_copies: set[str]) -> delivering.Outcome:
    if record.message_id not in first_copies:
        return delivering.Outcome.SKIPPED
    try:
        outcome = delivering.process(
            record.body, record.receipt_handle, int(record.attributes.approximate_receive_count)
        )
    except delivering.NotDueYet:
        raise
    except delivering.Deferred:
        metrics.add_metric(name=catalog.Metric.DELIVERY_DEFERRED, unit=MetricUnit.Count, value=1)
        raise
    except delivering.RetryLater:
        metrics.add_metric(name=catalog.Metric.DELIVERY_RETRIED, unit=MetricUnit.Count, value=1)
        raise
    if outcome in METRIC_BY_OUTCOME:
        metrics.add_metric(name=METRIC_BY_OUTCOME[outcome], unit=MetricUnit.Count, value=1)
    return outcome


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    first_copies = delivering.first_copies({r["messageId"]: r["body"] for r in event.get("Records", [])})

    async def handle_delivery(record: SQSRecord) -> str:
        """Runs one delivery on the shared thread pool, so a batch's deliveries overlap; in the
        invocation's context (contextvars), as asyncio.to_thread would."""
        in_context = contextvars.copy_context().run
        outcome = await asyncio.get_running_loop().run_in_executor(executor, in_context, _deliver, record, first_copies)
        return outcome.value

    return async_process_partial_response(
        event=event, record_handler=handle_delivery, processor=processor, context=context
    )


coldstart.loaded()
