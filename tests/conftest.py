"""Shared fixtures: an embedded AWS (moto) built from the catalog, and an API client that
sends real API Gateway proxy events to the real handlers (through local.gateway)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import pytest

from local.resources import FAKE_AWS_ENV

pytest_plugins = ["tests.iam.plugin"]  # the IAM audit of every request the functions make

TEST_ENV = {
    **FAKE_AWS_ENV,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
    "LOG_LEVEL": "WARNING",
    "HUB_LOCAL": "true",
    "ADMIN_API_KEY": "adm_test_operator_key_0123456789",
    "PUBLIC_BASE_URL": "http://127.0.0.1:3000",
    "WEBHOOK_RETRY_DELAY": "1000",
    "CONNECT_LINK_SECRET": "test-connect-link-signing-key-0123456789",
    # the tests revoke and post within one instance: read the tenant on every event (its cache has a test of its own)
    "TENANT_STATUS_CACHE_S": "0",
}
os.environ.update(TEST_ENV)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

ADMIN_KEY = TEST_ENV["ADMIN_API_KEY"]

TESTS = os.path.dirname(os.path.abspath(__file__))
_MARKED_DIRECTORIES = ("infra", "browser")
"""Directories whose every test carries the marker (pytest.ini registers them): CDK synthesis, Chromium."""
_EMBEDDED_AWS = ("mock_aws", "LocalHub")
"""A test module that imports one of these runs moto itself, or the local hub (which runs it)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks what the fast lane (`make unit`) leaves out: `aws` for a test on the embedded AWS (the `aws`
    fixture, or a module that imports moto's `mock_aws` or `LocalHub`; any other says `pytestmark`),
    `infra` and `browser` by directory."""
    for item in items:
        directory = os.path.relpath(str(item.path), TESTS).split(os.sep)[0]
        if directory in _MARKED_DIRECTORIES:
            item.add_marker(directory)
        module = getattr(item, "module", None)
        if "aws" in getattr(item, "fixturenames", ()) or any(hasattr(module, name) for name in _EMBEDDED_AWS):
            item.add_marker("aws")


def reset_cached_clients() -> None:
    """Clients, settings, tenant standings, endpoint breakers, subscription secrets and ingest windows are cached per process, as in Lambda; tests start each fresh."""
    from hub.delivery import fairness, health, queue
    from hub.delivery import secrets as subscription_secrets
    from hub.ingest import access
    from hub.ingest import limits as ingest_limits
    from hub.platform import ddb, settings
    from hub.tenants import auth

    auth.clear_cache()
    access.clear_cache()
    fairness.clear_cache()
    health.clear_cache()
    ingest_limits.clear_cache()
    subscription_secrets.clear_cache()
    ddb.client.cache_clear()
    queue.client.cache_clear()
    settings.load.cache_clear()


@pytest.fixture
def aws():
    """A fresh embedded AWS with every catalog table and queue."""
    from moto import mock_aws

    from local import resources, sqs_limits

    resources.make_dynamodb_requests_atomic()
    sqs_limits.enforce()
    with mock_aws():
        reset_cached_clients()
        resources.create_all(visibility_timeout_s=30)
        yield
    reset_cached_clients()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)

    @property
    def data(self) -> Any:
        return self.json["data"]

    @property
    def error_code(self) -> str:
        return self.json["error"]["code"]


class Streams:
    """Lambda's DynamoDB stream event sources with no lag (local.streams): `pump()` hands every new
    record to the dispatcher and the aggregator, and lets their exceptions through."""

    def __init__(self) -> None:
        from local import streams
        from local.runtime import Invoker

        self._pollers = streams.pollers(Invoker(), raise_errors=True)

    def pump(self) -> int:
        from local import streams

        return streams.drain_all(self._pollers)


@pytest.fixture
def streams(aws) -> Streams:
    return Streams()


class Api:
    """Calls the catalog's routes with API Gateway proxy events, in process.

    The streams are pumped before and after each call, as if the dispatcher and the aggregator
    kept up instantly: a test reads counters and queues as they are once Lambda has caught up.
    """

    def __init__(self, streams: Streams) -> None:
        from local.client import InProcessClient

        self._client = InProcessClient(ADMIN_KEY)
        self.streams = streams

    def call(self, method: str, target: str, **request: Any) -> Reply:
        self.streams.pump()
        response = self._client.request(method, target, **request)
        self.streams.pump()
        return Reply(response.status, {k.lower(): v for k, v in response.headers}, response.body)

    def create_tenant(self, name: str = "acme") -> dict[str, Any]:
        reply = self.call("POST", "/api/admin/tenants", body={"name": name}, admin=True)
        assert reply.status == 201, reply.raw
        return reply.data

    def create_session(self, api_key: str, **fields: Any) -> dict[str, Any]:
        reply = self.call("POST", "/api/whatsapp/session", body={"userId": "user-1", **fields}, api_key=api_key)
        assert reply.status == 201, reply.raw
        return reply.data


@pytest.fixture
def api(streams: Streams) -> Api:
    return Api(streams)


@pytest.fixture
def tenant(api: Api) -> dict[str, Any]:
    return api.create_tenant()
