"""Posts messages to WebSocket connections through API Gateway's management API (@connections)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

from hub.platform import settings

CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
MAX_MESSAGE_BYTES = 128 * 1024
"""API Gateway's largest WebSocket message payload (128 KB)."""


@lru_cache(maxsize=1)
def client():
    return boto3.client(
        "apigatewaymanagementapi", endpoint_url=settings.env("CONNECTIONS_API_ENDPOINT"), config=CLIENT_CONFIG
    )


def encode(message: dict[str, Any]) -> bytes:
    data = json.dumps(message, separators=(",", ":"), default=str).encode()
    if len(data) > MAX_MESSAGE_BYTES:
        raise ValueError(f"message of {len(data)} bytes is over API Gateway's {MAX_MESSAGE_BYTES}")
    return data


def post(connection_id: str, data: bytes) -> bool:
    """True when posted; False when the connection is gone (the caller forgets it)."""
    api = client()
    try:
        api.post_to_connection(ConnectionId=connection_id, Data=data)
    except api.exceptions.GoneException:
        return False
    return True
