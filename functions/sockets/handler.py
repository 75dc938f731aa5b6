"""WebSocket API routes: `$connect` checks the connect link's token and records which sessions the
connection watches; `$disconnect` forgets it. A refused `$connect` answers the link error's HTTP status,
which API Gateway turns into a refused handshake."""

from __future__ import annotations

from hub.platform import coldstart  # first: the handler loads with the garbage collector off (hub.platform.coldstart)

# isort: split

import json
import time

from hub.connect import links, watching
from hub.platform import errors
from hub.platform.exceptions import HubError
from hub.platform.observability import logger

MAX_CONNECTION_S = 2 * 60 * 60
"""API Gateway closes a WebSocket connection after 2 hours: a record never needs to outlive that."""


def _refused(error: HubError) -> dict:
    answer = errors.from_exception(error)
    return {"statusCode": answer.status, "body": json.dumps(answer.body())}


def _connect(connection_id: str, event: dict) -> dict:
    token = (event.get("queryStringParameters") or {}).get("token")
    try:
        link = links.verify(token)
        session_keys = [watching.watch_key(r) for r in watching.sessions(link)]
    except HubError as error:
        logger.info("connection refused", extra={"code": error.code})
        return _refused(error)
    watching.watch(connection_id, session_keys, min(link.expires_at, int(time.time()) + MAX_CONNECTION_S), link.kind)
    logger.info("connection watches", extra={"sessions": len(session_keys), "kind": link.kind})
    return {"statusCode": 200}


@logger.inject_lambda_context
def handler(event, context):
    request = event.get("requestContext") or {}
    route, connection_id = request.get("routeKey"), request.get("connectionId")
    if not connection_id:
        return {"statusCode": 400}
    if route == "$connect":
        return _connect(connection_id, event)
    if route == "$disconnect":
        watching.forget(connection_id)
        return {"statusCode": 200}
    return {"statusCode": 404}


coldstart.loaded()
