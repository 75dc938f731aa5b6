"""Shared fixtures: an embedded AWS (moto) built from the catalog, and an API client that
sends real API Gateway proxy events to the real handlers (through local.gateway)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from local import harness
from local.harness import Reply, reset_cached_clients

pytest_plugins = ["tests.iam.plugin"]  # the IAM audit of every request the functions make

ADMIN_KEY = "adm_test_operator_key_0123456789"

harness.configure_environment(
    {
        "LOG_LEVEL": "WARNING",
        "ADMIN_API_KEY": ADMIN_KEY,
        "WEBHOOK_RETRY_DELAY": "1000",
        "CONNECT_LINK_SECRET": "test-connect-link-signing-key-0123456789",
        # the tests revoke and post within one instance: read the tenant on every event (its cache has a test of its own)
        "TENANT_STATUS_CACHE_S": "0",
    }
)
__all__ = ["ADMIN_KEY", "Reply", "reset_cached_clients"]  # what test modules import from here

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


@pytest.fixture
def aws():
    """A fresh embedded AWS with every catalog table and queue."""
    with harness.embedded_aws(visibility_timeout_s=30):
        yield


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


class Api(harness.ApiClient):
    """Calls the catalog's routes with API Gateway proxy events, in process.

    The streams are pumped before and after each call, as if the dispatcher and the aggregator
    kept up instantly: a test reads counters and queues as they are once Lambda has caught up.
    """

    def __init__(self, streams: Streams) -> None:
        super().__init__(ADMIN_KEY)
        self.streams = streams

    def call(self, method: str, target: str, **request: Any) -> Reply:
        self.streams.pump()
        reply = super().call(method, target, **request)
        self.streams.pump()
        return reply

    def create_tenant(self, name: str = "acme") -> dict[str, Any]:
        return super().create_tenant(name)


@pytest.fixture
def api(streams: Streams) -> Api:
    return Api(streams)


@pytest.fixture
def tenant(api: Api) -> dict[str, Any]:
    return api.create_tenant()
