"""Push: the Sessions stream → each change a watcher sees, posted to the connections watching that session.

Nothing is read or posted for a change nobody watches but the one Query of the Connections table, and
nothing at all for a change no watcher would see (hub.connect.watching.change_message)."""

from __future__ import annotations

from hub.platform import coldstart  # first: the handler loads with the garbage collector off (hub.platform.coldstart)

# isort: split

import time

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from pydantic import ValidationError

from hub.connect import pushing, watching
from hub.connect import store as connections
from hub.platform import catalog, ddb
from hub.platform.observability import logger, metrics
from hub.sessions import store as session_store

HANDSHAKE_GRACE_S = 10
"""A connection is recorded by `$connect` before its handshake completes; until then a post answers Gone.
Only a connection older than this is forgotten on Gone (a younger one is retried at the next change)."""


def _record(image) -> session_store.SessionRecord | None:
    values = ddb.plain_image(image)
    return session_store.from_values(values) if values else None


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
            old, new = _record(record.dynamodb.old_image), _record(record.dynamodb.new_image)
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
    sent = gone = 0
    for (watch_key, revocation), message in latest.items():
        watchers = connections.watching(watch_key)
        if revocation:  # only connections opened with this session's links, issued before the revocation
            watchers = [w for w in watchers if w.link_kind == "session" and w.connected_at_ms <= message["revokedAt"]]
        if not watchers:
            continue
        data = pushing.encode(message)
        for watcher in watchers:
            delivered = pushing.post(watcher.connection_id, data)
            sent += delivered
            gone += not delivered
            if revocation or (
                not delivered and time.time() * 1000 - watcher.connected_at_ms > HANDSHAKE_GRACE_S * 1000
            ):
                connections.remove(watcher.connection_id)
    if sent:
        metrics.add_metric(name=catalog.Metric.PUSHES_SENT, unit=MetricUnit.Count, value=sent)
    if gone:
        metrics.add_metric(name=catalog.Metric.PUSHES_GONE, unit=MetricUnit.Count, value=gone)
    logger.info("pushed", extra={"records": len(records), "changes": len(latest), "sent": sent, "gone": gone})


coldstart.loaded()
