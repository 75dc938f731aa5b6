"""Connections table: who watches which session over the WebSocket API (one item per session and connection)."""

from __future__ import annotations

import time

from hub.connect.models import Watcher
from hub.platform import catalog, ddb

TABLE = catalog.CONNECTIONS


def add(connection_id: str, session_keys: list[str], expires_at: int, link_kind: str, now: float | None = None) -> None:
    """Records that the connection watches these sessions (their `<tenantId>#<sessionId>`) until `expires_at`
    (epoch seconds, the TTL)."""
    connected_at_ms = int((now if now is not None else time.time()) * 1000)
    ddb.write_batch(
        TABLE,
        puts=(
            {
                "sessionKey": s,
                "connectionId": connection_id,
                "connectedAt": connected_at_ms,
                "linkKind": link_kind,
                "expiresAt": expires_at,
            }
            for s in session_keys
        ),
    )


def watching(session_key: str, now: float | None = None) -> list[Watcher]:
    """The connections watching a session (its `<tenantId>#<sessionId>`), leaving out those past their TTL that
    DynamoDB has not deleted yet."""
    pages = (
        ddb.client()
        .get_paginator("query")
        .paginate(
            TableName=ddb.name(TABLE),
            KeyConditionExpression="sessionKey = :s",
            FilterExpression="expiresAt > :now",
            ExpressionAttributeValues=ddb.values(s=session_key, now=int(now if now is not None else time.time())),
            ProjectionExpression="connectionId, connectedAt, linkKind",
        )
    )
    return [
        Watcher(item["connectionId"]["S"], int(item["connectedAt"]["N"]), item["linkKind"]["S"])
        for page in pages
        for item in page["Items"]
    ]


def remove(connection_id: str) -> int:
    """Forgets the connection for every session it watched; returns how many items went."""
    pages = (
        ddb.client()
        .get_paginator("query")
        .paginate(
            TableName=ddb.name(TABLE),
            IndexName="byConnection",
            KeyConditionExpression="connectionId = :c",
            ExpressionAttributeValues=ddb.values(c=connection_id),
        )
    )
    keys = [
        ddb.from_item({"sessionKey": item["sessionKey"], "connectionId": item["connectionId"]})
        for page in pages
        for item in page["Items"]
    ]
    ddb.write_batch(TABLE, deletes=keys)
    return len(keys)
