"""The DynamoDB client and the conversions every table module shares."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import cache
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from hub.platform import catalog, settings
from hub.platform.exceptions import Busy, HubError, InvalidCursor, StoreError

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


@cache
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


RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
        "TransactionConflictException",
    }
)


def is_retryable(error: Exception) -> bool:
    """Throttling and server-side failures: the caller may retry the whole request."""
    return error_code(error) in RETRYABLE_CODES


def is_aws_failure(error: BaseException) -> bool:
    """Whether `error` comes from AWS: what a store reports (StoreError), or an AWS SDK error no store translated
    (a service's refusal, or a failure to reach it). How code that must not import the SDK tells an AWS failure
    from its own."""
    return isinstance(error, (StoreError, ClientError, BotoCoreError))


TRANSIENT_CODES = frozenset(
    {
        # throttling and in-flight conflicts (botocore's standard retry mode lists the same)
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "TransactionConflictException",
        "RequestTimeout",
        "RequestTimeoutException",
        # the service failing (also answered as HTTP 5xx)
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
"""Error codes of AWS services no request is to blame for (a stream record is retried, never set aside). A
TransactionCanceled counts too when every reason it gives is one of these."""


def is_transient(error: BaseException) -> bool:
    """A failure of AWS no request is to blame for (throttling, conflicts in flight, outages): Busy, or an SDK
    error that says so (TRANSIENT_CODES, an HTTP 5xx or 429, a failure to reach the service)."""
    if isinstance(error, Busy):
        return True
    if isinstance(error, ClientError):
        response = error.response
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = response.get("Error", {}).get("Code", "")
        if code == "TransactionCanceledException":
            reasons = {r.get("Code", "None") for r in response.get("CancellationReasons", [])} - {"None"}
            return bool(reasons) and reasons <= TRANSIENT_CODES | {"TransactionConflict"}
        return code in TRANSIENT_CODES or status >= 500 or status == 429
    return isinstance(error, BotoCoreError) and not isinstance(error, ParamValidationError)


def is_conditional_failure(error: Exception) -> bool:
    return error_code(error) == "ConditionalCheckFailedException"


@contextmanager
def condition_failure_raises(failure: HubError) -> Iterator[None]:
    """Inside, a write whose condition fails (ConditionalCheckFailed) raises `failure` instead."""
    try:
        yield
    except ClientError as error:
        if is_conditional_failure(error):
            raise failure from error
        raise


def invalid_cursor() -> InvalidCursor:
    return InvalidCursor(
        "cursor is not valid", details=[{"field": "cursor", "message": "not a cursor of this listing"}]
    )


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    """An opaque pagination cursor from a LastEvaluatedKey."""
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(from_item(key), separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """The ExclusiveStartKey for a cursor; InvalidCursor when it was not made by encode_cursor."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except Exception as error:
        raise invalid_cursor() from error
    if not isinstance(decoded, dict) or not all(isinstance(v, (str, int)) for v in decoded.values()):
        raise invalid_cursor()
    return to_item(decoded)


@cache
def resource():
    return boto3.resource("dynamodb", config=CLIENT_CONFIG)


def write_batch(
    table: catalog.Table, puts: Iterable[dict[str, Any]] = (), deletes: Iterable[dict[str, Any]] = ()
) -> None:
    """Puts whole items and deletes by key (plain values) through boto3's batch writer, which sends 25 per
    BatchWriteItem and resends what DynamoDB leaves unprocessed."""
    with resource().Table(name(table)).batch_writer() as batch:
        for item in puts:
            batch.put_item(Item={k: v for k, v in item.items() if v is not None})
        for key in deletes:
            batch.delete_item(Key=key)


def query_until(
    params: dict[str, Any],
    until: float,
    handle: Callable[[list[dict[str, Any]]], None],
    index: catalog.Index | None = None,
) -> bool:
    """Queries (the table, or `index` as query_index does) page by page, handing each page's items (plain
    values) to `handle`, until the deadline `until` (time.monotonic()); True when the last page was handled,
    False when time ran out first."""
    while time.monotonic() < until:
        page = query_index(index, params) if index else client().query(**params)
        handle([from_item(item) for item in page["Items"]])
        if "LastEvaluatedKey" not in page:
            return True
        params = {**params, "ExclusiveStartKey": page["LastEvaluatedKey"]}
    return False


BATCH_GET_MAX = 100


def get_many(
    table: catalog.Table, keys: list[dict[str, Any]], attributes: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """The items at `keys` (wire format), in the keys' order, missing ones left out: BatchGetItem, 100 keys
    per request, eventually consistent, retrying what DynamoDB leaves unprocessed. `attributes` narrows what
    is read (every attribute when empty). How a page read through a keys-only index is completed."""
    found: dict[str, dict[str, Any]] = {}
    key_names = [k.name for k in (table.partition_key, table.sort_key) if k]

    def identity(item: dict[str, Any]) -> str:
        return json.dumps([item[k] for k in key_names], sort_keys=True)

    for start in range(0, len(keys), BATCH_GET_MAX):
        request: dict[str, Any] = {"Keys": keys[start : start + BATCH_GET_MAX]}
        if attributes:
            request["ProjectionExpression"] = ", ".join(f"#a{i}" for i in range(len(attributes)))
            request["ExpressionAttributeNames"] = {f"#a{i}": a for i, a in enumerate(attributes)}
        pending = {name(table): request}
        for pause in (0, 0.05, 0.1, 0.2, 0.4, 0.8):
            time.sleep(pause)
            response = client().batch_get_item(RequestItems=pending)
            for item in response.get("Responses", {}).get(name(table), []):
                found[identity(item)] = item
            pending = response.get("UnprocessedKeys") or {}
            if not pending:
                break
        else:
            raise Busy("DynamoDB left keys of a BatchGetItem unprocessed; retry")
    return [found[identity(k)] for k in keys if identity(k) in found]


def index_unavailable(error: Exception) -> bool:
    """DynamoDB's answer to a query of an index the table does not have yet (ValidationException "The table does
    not have the specified index"; moto answers ResourceNotFoundException "Invalid index"), or is still
    backfilling (ValidationException naming the backfill)."""
    message = str((getattr(error, "response", {}) or {}).get("Error", {}).get("Message", ""))
    if error_code(error) == "ResourceNotFoundException":
        return message.startswith("Invalid index")
    return error_code(error) == "ValidationException" and (
        "does not have the specified index" in message or "backfilling" in message
    )


def query_index(index: catalog.Index, params: dict[str, Any]) -> dict[str, Any]:
    """A Query of `index`; while a migration (docs/migration.md) has not made it readable yet, of the index it
    `replaces` (same keys, so a cursor of one serves the other)."""
    try:
        return client().query(IndexName=index.name, **params)
    except ClientError as error:
        if not (index.replaces and index_unavailable(error)):
            raise
    return client().query(IndexName=index.replaces, **params)


def put_new(table: catalog.Table, item: dict[str, Any]) -> dict[str, Any]:
    """A TransactWriteItems `Put` of `item` (plain values) that fails when the table holds an item of its key."""
    return {
        "Put": {
            "TableName": name(table),
            "Item": to_item(item),
            "ConditionExpression": f"attribute_not_exists({table.partition_key.name})",
        }
    }


def key_of(table: catalog.Table, item: dict[str, Any]) -> dict[str, Any]:
    """The table key of an item or an index entry (wire format)."""
    return {k.name: item[k.name] for k in (table.partition_key, table.sort_key) if k}
