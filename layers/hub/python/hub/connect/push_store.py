"""API Gateway's management API (@connections): posts a message to one WebSocket connection."""

from __future__ import annotations

from functools import lru_cache

import boto3
from botocore.config import Config

from hub.platform import settings

CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


@lru_cache(maxsize=1)
def client():
    return boto3.client(
        "apigatewaymanagementapi", endpoint_url=settings.env("CONNECTIONS_API_ENDPOINT"), config=CLIENT_CONFIG
    )


def post(connection_id: str, data: bytes) -> bool:
    """True when posted; False when the connection is gone (the caller forgets it)."""
    api = client()
    try:
        api.post_to_connection(ConnectionId=connection_id, Data=data)
    except api.exceptions.GoneException:
        return False
    return True
