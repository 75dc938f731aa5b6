"""Aggregator: the Sessions, Events and Deliveries streams → summary, usage and stats counters (hub.aggregating)."""

from __future__ import annotations

from hub import coldstart  # first: the handler loads with the garbage collector off (hub.coldstart)

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source

from hub import aggregating, catalog
from hub.observability import logger, metrics
from hub.store import counters, ddb


@logger.inject_lambda_context
@metrics.log_metrics
@event_source(data_class=DynamoDBStreamEvent)
def handler(event: DynamoDBStreamEvent, context):
    records = [r for r in event.records if r.dynamodb and r.event_source_arn]
    if not records:
        return
    table_id = ddb.table_id_of_stream(records[0].event_source_arn)  # one event source mapping: one stream a batch
    deltas = aggregating.total(
        (table_id, ddb.plain_image(r.dynamodb.old_image), ddb.plain_image(r.dynamodb.new_image)) for r in records
    )
    batch_id = f"{records[0].event_source_arn}#{records[0].dynamodb.sequence_number}#{records[-1].dynamodb.sequence_number}"
    writes = counters.apply(deltas, batch_id)
    metrics.add_metric(name=catalog.Metric.COUNTER_WRITES, unit=MetricUnit.Count, value=writes)
    logger.info("counters updated", extra={"records": len(records), "counterItems": len(deltas), "writes": writes})


coldstart.loaded()
