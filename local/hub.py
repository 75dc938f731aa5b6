"""The whole hub in one process: embedded AWS (moto), the catalog's tables and queues, the SQS
and DynamoDB stream pollers, a dev tenant, and API Gateway's part played over HTTP. No business logic: every
request and message goes to the same handler functions Lambda runs.

The embedded AWS is one per process, started on first use and emptied at every `start()`:
handler modules build their boto3 clients at import, bound to the endpoint they saw then,
and moto's state is process-global anyway. So a process can start and stop several hubs
(one at a time); `stop()` restores the environment as it was before `start()`.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import secrets
import threading
import urllib.request

from moto.server import ThreadedMotoServer
from pydantic import ValidationError

from hub.connect import push_store
from hub.delivery import health as subscription_health
from hub.delivery import secrets as subscription_secrets
from hub.ingest import access
from hub.ingest import limits as ingest_limits
from hub.platform import catalog, settings
from hub.tenants import auth
from hub.tenants import registry as tenancy
from local import resources, sqs_limits, streams
from local.gateway import Gateway, GatewayServer
from local.poller import SqsPoller
from local.runtime import Invoker, Resolver, import_handler
from local.sockets import LocalSocketApi

log = logging.getLogger("local")

REGION = resources.REGION

_aws: ThreadedMotoServer | None = None
_aws_lock = threading.Lock()


def embedded_aws() -> str:
    """The endpoint of the process's embedded AWS, emptied of everything it held."""
    global _aws
    with _aws_lock:
        if _aws is None:
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
            resources.make_dynamodb_requests_atomic()
            sqs_limits.enforce()
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            atexit.register(server.stop)
            _aws = server
        host, port = _aws.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10).close()
    return endpoint


class LocalHubError(RuntimeError):
    """The local hub cannot start as asked (a LOCAL_API_KEY that cannot work, a dev tenant not created)."""


_UNSET = "unset it to have a random key made"


def check_dev_api_key(key: str) -> str:
    """The dev tenant's key as the admin route takes it (hub.tenants.registry: 20 to 128 characters) and as an
    `X-API-Key` header can carry it (visible ASCII, no spaces); else LocalHubError saying which rule fails."""
    try:
        tenancy.CreateTenant(name="dev", apiKey=key)
    except ValidationError as error:
        raise LocalHubError(
            f"LOCAL_API_KEY cannot work: {error.errors()[0]['msg']} (it has {len(key)}); {_UNSET}"
        ) from None
    if not all("!" <= c <= "~" for c in key):
        raise LocalHubError(f"LOCAL_API_KEY cannot work: it must be visible ASCII characters, no spaces; {_UNSET}")
    return key


class LocalHub:
    """`start()` / `stop()` (or `with LocalHub(port=0) as hub:`); then `.base_url`, `.admin_key`, `.dev_api_key`."""

    def __init__(
        self,
        port: int = 3000,
        host: str = "127.0.0.1",
        *,
        resolver: Resolver = import_handler,
        admin_key: str | None = None,
        dev_api_key: str | None = None,
        create_dev_tenant: bool = True,
    ) -> None:
        """`port` 0 picks a free one. Keys default to $ADMIN_API_KEY / $LOCAL_API_KEY, else random ones.

        A dev API key that cannot work (check_dev_api_key) raises LocalHubError here, before anything starts."""
        self.host, self.port = host, port
        self.admin_key = admin_key or os.environ.get("ADMIN_API_KEY") or "adm_" + secrets.token_urlsafe(24)
        self.dev_api_key = dev_api_key or os.environ.get("LOCAL_API_KEY") or None
        if self.dev_api_key and create_dev_tenant:
            check_dev_api_key(self.dev_api_key)
        self.dev_tenant_id: str | None = None
        self.aws_endpoint = ""
        self._resolver = resolver
        self._create_dev_tenant = create_dev_tenant
        self._saved_env: dict[str, str] | None = None
        self._server: GatewayServer | None = None
        self._serving: threading.Thread | None = None
        self._pollers: list[SqsPoller | streams.StreamPoller] = []
        self.sockets: LocalSocketApi | None = None
        self.gateway: Gateway | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalHub:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self._saved_env = dict(os.environ)
        # Environment first: handler modules read it (and make their clients) when imported.
        for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL_")] + ["AWS_PROFILE", "AWS_SESSION_TOKEN"]:
            os.environ.pop(name, None)
        os.environ.update(resources.FAKE_AWS_ENV)
        self.aws_endpoint = os.environ["AWS_ENDPOINT_URL"] = embedded_aws()
        for setting in settings.SETTINGS:  # what the stack sets on every function
            if setting.default:
                os.environ.setdefault(setting.env_var, setting.default)

        invoker = Invoker(self._resolver, region=REGION)
        self.gateway = Gateway(invoker)
        self._server = GatewayServer(self.host, self.port, self.gateway)  # bound now, served last
        self.port = self._server.server_address[1]
        os.environ.update(HUB_LOCAL="true", ADMIN_API_KEY=self.admin_key, PUBLIC_BASE_URL=self.base_url)
        self.sockets = LocalSocketApi(invoker, self.host).start()
        os.environ.update(
            CONNECT_WEBSOCKET_URL=self.sockets.websocket_url, CONNECTIONS_API_ENDPOINT=self.sockets.management_endpoint
        )
        os.environ.setdefault("CONNECT_LINK_SECRET", secrets.token_urlsafe(32))
        push_store.client.cache_clear()  # bound to the management endpoint of the hub it first saw
        subscription_secrets.clear_cache()  # secrets, ingest windows and tenant standings of the embedded AWS just emptied
        auth.clear_cache()
        access.clear_cache()
        ingest_limits.clear_cache()
        subscription_health.clear_cache()
        settings.load.cache_clear()

        consumers = [f for f in catalog.FUNCTIONS if f.sqs_trigger]
        resources.create_all()
        queues = {q.id: q for q in catalog.QUEUES}
        for function in consumers:
            poller = SqsPoller(function, invoker, os.environ[queues[function.sqs_trigger].env_var])
            poller.start()
            self._pollers.append(poller)
        for stream_poller in streams.pollers(invoker):
            stream_poller.start()
            self._pollers.append(stream_poller)

        if self._create_dev_tenant:
            self._make_dev_tenant()
        self._serving = threading.Thread(target=self._server.serve_forever, name="http", daemon=True)
        self._serving.start()

    def _make_dev_tenant(self) -> None:
        """Creates the dev tenant through the admin route, exactly as an HTTP request would; LocalHubError if it cannot."""
        assert self.gateway
        body: dict[str, str] = {"name": "dev"}
        if self.dev_api_key:
            body["apiKey"] = self.dev_api_key  # honoured by the admin handler only when HUB_LOCAL=true
        headers = [
            ("Host", f"{self.host}:{self.port}"),
            ("Content-Type", "application/json"),
            ("X-Admin-Key", self.admin_key),
        ]
        response = self.gateway.handle("POST", "/api/admin/tenants", headers, json.dumps(body).encode())
        try:
            data = json.loads(response.body)["data"]
            self.dev_tenant_id, created_key = data["tenantId"], data["apiKey"]
        except (ValueError, KeyError, TypeError):
            raise LocalHubError(
                f"could not create the dev tenant: {response.status} {response.body[:500].decode(errors='replace')}"
            ) from None
        if self.dev_api_key and created_key != self.dev_api_key:
            raise LocalHubError("the admin handler ignored LOCAL_API_KEY (is HUB_LOCAL=true reaching it?)")
        self.dev_api_key = created_key

    def stop(self) -> None:
        """Stops serving and polling, and restores the environment; idempotent."""
        if self._server:
            if self._serving:
                self._server.shutdown()
            self._server.server_close()
            self._server = self._serving = None
        for poller in self._pollers:
            poller.stop()
        self._pollers = []
        if self.sockets:
            self.sockets.stop()
            self.sockets = None
        if self._saved_env is not None:
            os.environ.clear()
            os.environ.update(self._saved_env)
            self._saved_env = None
            settings.load.cache_clear()

    def __enter__(self) -> LocalHub:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
