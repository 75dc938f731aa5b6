"""The DynamoDB client and the conversions every table module shares."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from functools import lru_cache
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config

from hub import catalog, settings

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


@lru_cache(maxsize=None)
def client():
    return boto3.client("dynamodb", config=CLIENT_CONFIG)


def name(table: catalog.Table) -> str:
    return settings.table_name(table)


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def to_value(value: Any) -> dict[str, Any]:
    return _serializer.serialize(value)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, set, tuple)):
        return [_plain(v) for v in value]
    return value


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def plain_image(image: dict[str, Any]) -> dict[str, Any] | None:
    """A stream record's image as Powertools deserializes it, with plain numbers; None when absent."""
    return {k: _plain(v) for k, v in image.items()} or None


def table_id_of_stream(stream_arn: str) -> str:
    """The catalog id of the table a stream ARN (`...:table/<name>/stream/<label>`) belongs to."""
    table_name = stream_arn.split(":table/", 1)[1].split("/stream/", 1)[0]
    return next(t.id for t in catalog.TABLES if settings.has(t.env_var) and name(t) == table_name)


def values(**named: Any) -> dict[str, Any]:
    """ExpressionAttributeValues from keyword arguments (`:name` placeholders)."""
    return {f":{k}": to_value(v) for k, v in named.items()}


def error_code(error: Exception) -> str:
    response = getattr(error, "response", {}) or {}
    return response.get("Error", {}).get("Code", "")


def cancellation_codes(error: Exception) -> list[str]:
    """The per-item reason codes of a cancelled transaction ('None' where an item was fine)."""
    response = getattr(error, "response", {}) or {}
    return [reason.get("Code", "None") for reason in response.get("CancellationReasons", [])]


RETRYABLE_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable", "TransactionInProgressException", "TransactionConflictException",
})


def is_retryable(error: Exception) -> bool:
    """Throttling and server-side failures: the caller may retry the whole request."""
    return error_code(error) in RETRYABLE_CODES


def is_conditional_failure(error: Exception) -> bool:
    return error_code(error) == "ConditionalCheckFailedException"


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    """An opaque pagination cursor from a LastEvaluatedKey."""
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(from_item(key), separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """The ExclusiveStartKey for a cursor; ValueError when it was not made by encode_cursor."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except Exception as error:
        raise ValueError("cursor is not valid") from error
    if not isinstance(decoded, dict) or not all(isinstance(v, (str, int)) for v in decoded.values()):
        raise ValueError("cursor is not valid")
    return to_item(decoded)
