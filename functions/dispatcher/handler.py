"""Dispatcher: the Events table's stream → one delivery message per target subscription (hub.dispatching)."""

from __future__ import annotations

from hub import coldstart  # first: the handler loads with the garbage collector off (hub.coldstart)

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source

from hub import catalog, dispatching
from hub.observability import logger, metrics
from hub.store import ddb
from hub.store import events as event_store
from hub.store.events import StoredEvent


@logger.inject_lambda_context
@metrics.log_metrics
@event_source(data_class=DynamoDBStreamEvent)
def handler(event: DynamoDBStreamEvent, context):
    changes = [(ddb.plain_image(r.dynamodb.old_image), ddb.plain_image(r.dynamodb.new_image))
               for r in event.records if r.dynamodb]
    recorded = [StoredEvent.model_validate(new) for old, new in changes if event_store.newly_recorded(old, new)]
    queued = dispatching.dispatch(recorded)
    metrics.add_metric(name=catalog.Metric.DELIVERIES_QUEUED, unit=MetricUnit.Count, value=queued)
    logger.info("events dispatched", extra={"records": len(changes), "deliveriesQueued": queued})


coldstart.loaded()
