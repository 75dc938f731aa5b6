"""Push: the Sessions stream → each change a watcher sees, posted to the connections watching that session.

Nothing is read or posted for a change nobody watches but the one Query of the Connections table, and
nothing at all for a change no watcher would see (hub.connect.watching.change_message)."""

from __future__ import annotations

from hub.platform import coldstart  # first: the handler loads with the garbage collector off (hub.platform.coldstart)

# isort: split

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from pydantic import ValidationError

from hub.connect import pushing, watching
from hub.platform import catalog
from hub.platform.observability import logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics
@event_source(data_class=DynamoDBStreamEvent)
def handler(event: DynamoDBStreamEvent, context):
    latest: dict[tuple[str, bool], dict] = {}  # per session, the batch's last status and last revocation
    records = list(event.records)
    for record in records:
        if not record.dynamodb:
            continue
        try:
            old = watching.session_of_image(record.dynamodb.old_image)
            new = watching.session_of_image(record.dynamodb.new_image)
            message = watching.change_message(old, new)
        except ValidationError as error:  # not a session the hub wrote: nothing a page could show
            logger.warning(
                "session image not understood; nothing pushed",
                extra={"eventID": record.event_id, "errors": error.error_count()},
            )
            continue
        if message is not None:
            changed = new or old
            assert changed is not None  # a message comes of an image
            latest[(watching.watch_key(changed), message["type"] == "link.revoked")] = message
    pushed = pushing.push(latest)
    if pushed.sent:
        metrics.add_metric(name=catalog.Metric.PUSHES_SENT, unit=MetricUnit.Count, value=pushed.sent)
    if pushed.gone:
        metrics.add_metric(name=catalog.Metric.PUSHES_GONE, unit=MetricUnit.Count, value=pushed.gone)
    logger.info(
        "pushed", extra={"records": len(records), "changes": len(latest), "sent": pushed.sent, "gone": pushed.gone}
    )


coldstart.loaded()
