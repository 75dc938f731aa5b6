"""Records, with botocore event hooks, every AWS request a function makes while the local Invoker runs
it (local.runtime.invoking names the function), as the IAM authorizations it needs
(tests.iam.policy.Request). Requests made outside an invocation (test setup, the event source
mappings' own polling) are not recorded.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

import boto3
import botocore.handlers

from hub.platform import settings
from infra.config import DEFAULT_STAGE
from local.runtime import invoking
from tests.iam.policy import ACCOUNT, REGION, SOCKET_API_TOKEN, Request, queue_arn, table_arn, usage_plan_token

EVENT = "before-parameter-build"

TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
"""A DynamoDB transaction is authorized item by item, as the item's own action."""
SQS_BATCH_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
"""SQS has no permission for a batch action: the single action's permission covers it."""


def _dynamodb(operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return [
            (f"dynamodb:{TRANSACT_ACTIONS[kind]}", table_arn(body["TableName"]))
            for item in params.get("TransactItems", [])
            for kind, body in item.items()
        ]
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [(f"dynamodb:{operation}", table_arn(name)) for name in params.get("RequestItems", {})]
    if "StreamArn" in params:
        return [(f"dynamodb:{operation}", params["StreamArn"])]
    if "TableName" in params:
        arn = params["TableName"] if params["TableName"].startswith("arn:") else table_arn(params["TableName"])
        if params.get("IndexName"):
            arn = f"{arn}/index/{params['IndexName']}"
        return [(f"dynamodb:{operation}", arn)]
    return [(f"dynamodb:{operation}", "*")]


def _sqs(operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    action = f"sqs:{SQS_BATCH_ACTIONS.get(operation, operation)}"
    if "QueueUrl" in params:
        return [(action, queue_arn(urlparse(params["QueueUrl"]).path.rstrip("/").rsplit("/", 1)[-1]))]
    return [(action, "*")]


def _usage_plan_names() -> dict[str, str]:
    """The running function's usage plan ids (USAGE_PLAN_IDS) -> the token the policy side names
    each plan by (tests.iam.policy.usage_plan_token)."""
    plans = json.loads(settings.env("USAGE_PLAN_IDS") or "{}")
    return {plan_id: usage_plan_token(name) for name, plan_id in plans.items()}


def _apigateway(model: Any, params: dict[str, Any]) -> list[tuple[str, str]]:
    """API Gateway authorizes the HTTP method on the resource path (`apigateway:POST` on `/apikeys`)."""
    uri = model.http["requestUri"].split("?", 1)[0]
    members = model.input_shape.members if model.input_shape else {}
    by_location = {
        shape.serialization.get("name", name): params.get(name)
        for name, shape in members.items()
        if shape.serialization.get("location") == "uri"
    }
    if "usageplanId" in by_location:
        by_location["usageplanId"] = _usage_plan_names().get(by_location["usageplanId"], by_location["usageplanId"])
    path = re.sub(r"\{([^}+]+)\+?\}", lambda m: str(by_location.get(m.group(1), "*")), uri)
    return [(f"apigateway:{model.http['method']}", f"arn:aws:apigateway:{REGION}::{path}")]


def _connections(model: Any, params: dict[str, Any]) -> list[tuple[str, str]]:
    """The @connections management API: `execute-api:ManageConnections` on
    `<api>/<stage>/<METHOD>/@connections/<id>` of the hub's one WebSocket API."""
    path = f"{SOCKET_API_TOKEN}/{DEFAULT_STAGE}/{model.http['method']}/@connections/{params.get('ConnectionId', '*')}"
    return [("execute-api:ManageConnections", f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{path}")]


def authorizations(model: Any, params: dict[str, Any]) -> list[tuple[str, str]]:
    """(IAM action, resource ARN) pairs one request needs; a resource this does not model is `*`
    (so only a statement granting every resource allows it)."""
    service = model.service_model
    prefix = service.signing_name or service.endpoint_prefix
    if prefix == "dynamodb":
        return _dynamodb(model.name, params)
    if prefix == "sqs":
        return _sqs(model.name, params)
    if prefix == "apigateway":
        return _apigateway(model, params)
    if prefix == "execute-api":
        return _connections(model, params)
    if prefix == "secretsmanager" and "SecretId" in params:
        secret = params["SecretId"]
        arn = secret if secret.startswith("arn:") else f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret}"
        return [(f"secretsmanager:{model.name}", arn)]
    return [(f"{prefix}:{model.name}", "*")]


class Recorder:
    """The authorizations requested by each function, with the first test that needed each."""

    def __init__(self) -> None:
        self.requests: dict[Request, str] = {}
        self._lock = threading.Lock()

    def add(self, request: Request, where: str) -> None:
        with self._lock:
            self.requests.setdefault(request, where)


SESSION = Recorder()
"""Everything the suite's invocations requested."""
_active: list[Recorder] = [SESSION]
current_test = ""


def _record(params: dict[str, Any], model: Any, **_: Any) -> None:
    function = invoking.get()
    if function is None:
        return
    for action, resource in authorizations(model, params):
        for recorder in list(_active):
            recorder.add(Request(function, action, resource), current_test)


@contextmanager
def recording() -> Iterator[Recorder]:
    """Also records the block's requests into a recorder of its own (clients made from now on)."""
    install()
    recorder = Recorder()
    _active.append(recorder)
    try:
        yield recorder
    finally:
        _active.remove(recorder)


_installed = False


def install() -> None:
    """Hooks every botocore session created from now on (as moto does), and boto3's default one."""
    global _installed
    if _installed:
        return
    botocore.handlers.BUILTIN_HANDLERS.append((EVENT, _record))
    if boto3.DEFAULT_SESSION is not None:
        boto3.DEFAULT_SESSION._session.register(EVENT, _record)
    _installed = True
