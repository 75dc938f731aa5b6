"""What the tests (tests/conftest.py) and the benchmarks (bench/harness.py) share to drive the hub in one
process: the environment, the reset of the per-process caches, an embedded AWS built from the catalog, an API
client of the real handlers, and a threaded HTTP(S) subscriber. The runtime never imports it (import contract).
"""

from __future__ import annotations

import json
import os
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.resources import FAKE_AWS_ENV

BASE_ENVIRONMENT = {
    **FAKE_AWS_ENV,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
    "HUB_LOCAL": "true",  # the local hub's rules: http:// subscribers on loopback allowed
    "PUBLIC_BASE_URL": "http://127.0.0.1:3000",
}
"""The in-process environment: fake credentials (moto), the local hub's rules, no X-Ray."""

_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_PROFILE")


def configure_environment(overrides: Mapping[str, str]) -> dict[str, str]:
    """Sets BASE_ENVIRONMENT with `overrides` in the process environment and drops any AWS endpoint or profile
    (the embedded AWS is moto's in-process mock); returns what it set. Runs before any hub module is imported
    (settings and Powertools read the environment)."""
    environment = {**BASE_ENVIRONMENT, **overrides}
    os.environ.update(environment)
    for name in _ENDPOINT_VARIABLES:
        os.environ.pop(name, None)
    return environment


def reset_clients() -> None:
    """Drops the cached boto3 clients and settings (made again, for the current endpoint and environment)."""
    from hub.delivery import queue
    from hub.platform import ddb, settings

    ddb.client.cache_clear()
    ddb.resource.cache_clear()
    queue.client.cache_clear()
    settings.load.cache_clear()


def reset_cached_clients() -> None:
    """A fresh process's caches: clients, settings, tenant standings, receiver handles, endpoint breakers,
    subscription health, subscription secrets and ingest windows are cached per process, as in Lambda."""
    from hub.delivery import fairness, health
    from hub.delivery import secrets as subscription_secrets
    from hub.ingest import access
    from hub.ingest import limits as ingest_limits
    from hub.tenants import auth

    auth.clear_cache()
    access.clear_cache()
    fairness.clear_cache()
    health.clear_cache()
    ingest_limits.clear_cache()
    subscription_secrets.clear_cache()
    reset_clients()


@contextmanager
def embedded_aws(visibility_timeout_s: int | None = None) -> Iterator[None]:
    """A fresh moto with every catalog table and queue (queues with the stack's visibility timeout unless
    given), AWS's atomic DynamoDB requests and SQS limits."""
    from moto import mock_aws

    from local import resources, sqs_limits

    resources.make_dynamodb_requests_atomic()
    sqs_limits.enforce()
    with mock_aws():
        reset_cached_clients()
        resources.create_all(visibility_timeout_s=visibility_timeout_s)
        try:
            yield
        finally:
            reset_cached_clients()


# --- the API ------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    """Lower-cased names."""
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


class ApiClient:
    """Calls the catalog's routes with API Gateway proxy events, in process (local.client)."""

    def __init__(self, admin_key: str) -> None:
        from local.client import InProcessClient

        self.client = InProcessClient(admin_key)
        self.invoker = self.client.invoker

    def call(self, method: str, target: str, **request: Any) -> Reply:
        response = self.client.request(method, target, **request)
        return Reply(response.status, {k.lower(): v for k, v in response.headers}, response.body)

    def create_tenant(self, name: str) -> dict[str, Any]:
        reply = self.call("POST", "/api/admin/tenants", body={"name": name}, admin=True)
        assert reply.status == 201, reply.raw
        return reply.data

    def create_session(self, api_key: str, **fields: Any) -> dict[str, Any]:
        """Registers a session (`userId` user-1 unless given) with the register route's fields."""
        reply = self.call("POST", "/api/whatsapp/session", body={"userId": "user-1", **fields}, api_key=api_key)
        assert reply.status == 201, reply.raw
        return reply.data


# --- a subscriber -------------------------------------------------------------------------------


@dataclass
class Subscriber:
    """A threaded HTTP/1.1 server on 127.0.0.1 (HTTPS with `context`) answering every POST with 200 `ok` after
    `delay_s`, each request on its own thread. Records each request's arrival, its Host header and each TLS
    handshake's server name (SNI). `with Subscriber() as s:` or `s = Subscriber().start()` ... `s.close()`."""

    context: ssl.SSLContext | None = None
    delay_s: float = 0.0
    arrivals: list[tuple[float, bytes]] = field(default_factory=list)
    """(perf_counter on arrival, body) of every request."""
    hosts: list[str] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def received(self) -> int:
        return len(self.arrivals)

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"{'https' if self.context else 'http'}://127.0.0.1:{self.port}/hook"

    def start(self) -> Subscriber:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with owner._lock:
                    owner.arrivals.append((time.perf_counter(), body))
                    owner.hosts.append(self.headers["Host"])
                time.sleep(owner.delay_s)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                try:
                    self.wfile.write(b"ok")
                except OSError:  # the hub stopped waiting (timeout) and closed the connection
                    return

            def log_message(self, format: str, *args: Any) -> None:
                return

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 64

        server = Server(("127.0.0.1", 0), Handler)
        if self.context is not None:
            self.context.sni_callback = lambda sock, name, ctx: self.server_names.append(name)
            server.socket = self.context.wrap_socket(server.socket, server_side=True)
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> Subscriber:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()
