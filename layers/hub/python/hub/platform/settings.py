"""Runtime settings: every environment variable the hub reads, with its default, and which
variables each function gets (`function_env_names`), the one declaration the stack, the local
hub and the tests build each function's environment from.

Handlers read the environment only through this module. In Lambda that is `os.environ`; the
local hub and the tests run every function in one process, so their invoker sets the function's
own environment for the duration of an invocation (`function_environment`), and nothing else is
visible to the handler. The fake AWS credentials, region and endpoint stay process-wide: boto3
reads them itself (the documented local-only exception, with `HUB_LOCAL`).
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from hub.platform import catalog


@dataclass(frozen=True)
class Setting:
    env_var: str
    default: str
    description: str


ResourceKind = Literal[
    "table",
    "queue",
    "dead_letter_queue",
    "failure_queue",
    "secret",
    "rest_api",
    "usage_plans",
    "link_secret",
    "websocket_url",
    "connections_endpoint",
]

ADMIN_KEY_SECRET = "AdminKey"
"""The stack's operator-key secret."""
REST_API = "Api"
"""The stack's REST API (its id and usage plans)."""
LINK_SECRET = "ConnectLinkKey"
"""The stack's connect-link signing key."""
SOCKET_API = "Sockets"
"""The stack's WebSocket API (its URL and its @connections management endpoint)."""


@dataclass(frozen=True)
class Resource:
    """An environment variable whose value names one of the stack's resources (set by the stack)."""

    env_var: str
    kind: ResourceKind
    resource_id: str
    """The catalog id (tables, queues, failure queues) or ADMIN_KEY_SECRET / REST_API."""


HUB_FUNCTION = "HUB_FUNCTION"
"""Every function's own catalog name: the cold-start check finds the function's declaration by it."""

SETTINGS: tuple[Setting, ...] = (
    (
        Setting(
            "WEBHOOK_RETRY_ATTEMPTS",
            "3",
            "Retries after the first delivery attempt (per subscription overridable, 0..10)",
        ),
        Setting("WEBHOOK_RETRY_DELAY", "5000", "Base retry delay in ms; attempt n waits base * 2**(n-1)"),
        Setting("WEBHOOK_TIMEOUT_MS", "10000", "Subscriber request timeout in ms (max 30000)"),
        Setting("WEBHOOK_LOG_RETENTION_DAYS", "30", "Days a delivery log is kept (DynamoDB TTL)"),
        Setting(
            "SUBSCRIPTION_DISABLE_AFTER_HOURS",
            "120",
            "A subscription whose every attempt has failed for this many hours is disabled (1..720; default 5 days)",
        ),
        Setting("MAX_QR_ATTEMPTS", "3", "QR codes per connection cycle before the session is auto-disconnected"),
        Setting("MAX_BODY_BYTES", "262144", "Largest accepted request body"),
        Setting("DEDUPE_WINDOW_HOURS", "24", "How long a received event is remembered for duplicate detection"),
        Setting(
            "MAX_CLOCK_SKEW_SECONDS",
            "300",
            "How far past the receive time an event time is trusted; later ones are ordered by the receive time",
        ),
        Setting(
            "CREDENTIAL_ROTATION_OVERLAP_S",
            "86400",
            "Seconds an inbound secret or a gateway credential's key stays accepted after a rotation, unless the "
            "rotation asks for another overlap (0 to 604800)",
        ),
        Setting(
            "TENANT_STATUS_CACHE_S",
            "30",
            "Seconds a receiver instance trusts a tenant's standing (active or revoked) "
            "before reading it again: a revoked tenant's events are refused within this long (0: read on every event)",
        ),
        Setting(
            "GATEWAY_RATE_LIMIT_PER_SECOND",
            "20",
            "Events per second one session's gateway may post, averaged over "
            "GATEWAY_RATE_WINDOW_SECONDS; more are refused with 429 RATE_LIMITED and Retry-After (0: no limit)",
        ),
        Setting(
            "GATEWAY_RATE_WINDOW_SECONDS",
            "10",
            "The ingest limit's fixed window: a session may post "
            "GATEWAY_RATE_LIMIT_PER_SECOND x this many events per window, all at once (its burst)",
        ),
        Setting(
            "MAX_JSON_DEPTH", "64", "Deepest nesting of arrays/objects accepted in a JSON body (checked before parsing)"
        ),
        Setting("HUB_LOCAL", "false", "true when running as the local hub: allows http:// subscribers on loopback"),
        Setting(
            "PUBLIC_BASE_URL",
            "",
            "Base URL the hub is reached at, used for receiverUrl (defaults to the request's host)",
        ),
        Setting(
            "ADMIN_API_KEY", "", "Operator key for /api/admin (locally; in the cloud read from ADMIN_KEY_SECRET_ARN)"
        ),
        Setting("ADMIN_KEY_SECRET_ARN", "", "Secrets Manager secret holding the operator key (set by the stack)"),
        Setting("REST_API_ID", "", "The REST API whose keys the tenant manager creates (set by the stack)"),
        Setting(
            "USAGE_PLAN_IDS",
            "",
            "JSON map of plan name to API Gateway usage plan id (set by the stack on the admin "
            "function); without it, outside HUB_LOCAL, tenants are refused",
        ),
        Setting(HUB_FUNCTION, "", "The function's catalog name (set by the stack and the local invoker)"),
        Setting("POWERTOOLS_SERVICE_NAME", "wa-webhook-hub", "Service name in logs, traces and metrics"),
        Setting("POWERTOOLS_METRICS_NAMESPACE", "WaWebhookHub", "CloudWatch namespace of the hub's metrics"),
        Setting("LOG_LEVEL", "INFO", "Log level"),
        Setting("CONNECT_LINK_TTL_S", "900", "Default lifetime of a connect link, in seconds"),
        Setting(
            "CONNECT_LINK_MAX_TTL_S",
            "86400",
            "Longest lifetime a connect link may ask for, in seconds (at most 24 hours)",
        ),
        Setting(
            "CONNECT_LINK_SECRET",
            "",
            "Key that signs connect links (locally; in the cloud read from CONNECT_LINK_SECRET_ARN)",
        ),
        Setting(
            "CONNECT_LINK_SECRET_ARN",
            "",
            "Secrets Manager secret holding the connect-link signing key (set by the stack; "
            "its AWSPREVIOUS version still verifies after a rotation)",
        ),
        Setting(
            "CONNECT_WEBSOCKET_URL",
            "",
            "wss:// URL of the WebSocket API the connect page listens on (set by the stack)",
        ),
        Setting(
            "CONNECTIONS_API_ENDPOINT",
            "",
            "https:// endpoint of the WebSocket API's @connections management API (set by the stack)",
        ),
        Setting(
            "CONNECT_FRAME_ANCESTORS",
            "'none'",
            "CSP frame-ancestors of the connect page: origins allowed to embed it in an iframe",
        ),
        Setting(
            "PYDANTIC_DISABLE_PLUGINS",
            "__all__",
            "Read by pydantic: skips the plugin scan of installed packages at cold start",
        ),
    )
    + tuple(Setting(t.env_var, "", f"DynamoDB table {t.id} (set by the stack)") for t in catalog.TABLES)
    + tuple(
        Setting(v, "", f"SQS queue URL for {q.id} (set by the stack)")
        for q in catalog.QUEUES
        for v in (q.env_var, q.dead_letter_env_var)
    )
    + tuple(
        Setting(
            q.env_var,
            "",
            f"SQS queue URL for {q.id}, where the {q.function} sets aside what it cannot process (set by the stack)",
        )
        for q in catalog.FAILURE_QUEUES
    )
)

_DEFAULTS = {s.env_var: s.default for s in SETTINGS}

_REQUIRED = frozenset(  # no default: a missing one fails, never falls back
    {t.env_var for t in catalog.TABLES}
    | {v for q in catalog.QUEUES for v in (q.env_var, q.dead_letter_env_var)}
    | {q.env_var for q in catalog.FAILURE_QUEUES}
)

LOCAL_STAND_INS = {"ADMIN_KEY_SECRET_ARN": "ADMIN_API_KEY", "CONNECT_LINK_SECRET_ARN": "CONNECT_LINK_SECRET"}
"""Locally there are no secrets: the keys themselves stand in for the variables naming the secrets."""


def admin_key_functions() -> frozenset[str]:
    """Functions serving routes authenticated with the operator key."""
    return frozenset(r.function for r in catalog.ROUTES if r.auth == "admin")


def resources(function: catalog.Function) -> tuple[Resource, ...]:
    """The stack's resources a function is told about, from its catalog entry."""
    found: list[Resource] = []
    # A stream trigger's table too, so the function can tell which stream a record came from.
    for table_id in dict.fromkeys((*function.tables, *(t.table for t in function.stream_triggers))):
        found.append(Resource(catalog.table(table_id).env_var, "table", table_id))
    for queue_id in function.queues:
        queue = catalog.queue(queue_id)
        found.append(Resource(queue.env_var, "queue", queue_id))
        found.append(Resource(queue.dead_letter_env_var, "dead_letter_queue", queue_id))
    # A stream function's failure queue: where it sets aside what it cannot process, and replays from.
    for queue_id in dict.fromkeys(t.failures_to for t in function.stream_triggers):
        found.append(Resource(catalog.failure_queue(queue_id).env_var, "failure_queue", queue_id))
    if function.name in admin_key_functions():
        found.append(Resource("ADMIN_KEY_SECRET_ARN", "secret", ADMIN_KEY_SECRET))
    if function.manages_api_keys:
        found.append(Resource("REST_API_ID", "rest_api", REST_API))
        found.append(Resource("USAGE_PLAN_IDS", "usage_plans", REST_API))
    if function.reads_link_secret:
        found.append(Resource("CONNECT_LINK_SECRET_ARN", "link_secret", LINK_SECRET))
        found.append(Resource("CONNECT_WEBSOCKET_URL", "websocket_url", SOCKET_API))
    if function.manages_connections:
        found.append(Resource("CONNECTIONS_API_ENDPOINT", "connections_endpoint", SOCKET_API))
    return tuple(found)


def stack_owned() -> frozenset[str]:
    """Variables the stack sets per function (resources, HUB_FUNCTION) or never sets (local
    stand-ins): never taken from the common settings."""
    names = {r.env_var for f in catalog.FUNCTIONS for r in resources(f)} | _REQUIRED
    names |= {
        "ADMIN_KEY_SECRET_ARN",
        "REST_API_ID",
        "USAGE_PLAN_IDS",
        HUB_FUNCTION,
        "CONNECT_LINK_SECRET_ARN",
        "CONNECT_WEBSOCKET_URL",
        "CONNECTIONS_API_ENDPOINT",
    }
    return frozenset(names | set(LOCAL_STAND_INS.values()))


def common_settings(values: Mapping[str, str]) -> dict[str, str]:
    """The settings every function gets: each declared, non-stack-owned setting with its value in
    `values` (CDK context locally the process environment) or its default, when not empty."""
    owned = stack_owned()
    common = {s.env_var: str(values.get(s.env_var) or s.default) for s in SETTINGS if s.env_var not in owned}
    return {name: value for name, value in common.items() if value}


def function_env_names(function: catalog.Function, common: Mapping[str, str], *, local: bool = False) -> frozenset[str]:
    """Exactly the variable names `function` gets: common settings, HUB_FUNCTION, its resources
    (locally with their stand-ins)."""
    names = {*common, HUB_FUNCTION}
    for resource in resources(function):
        names.add(LOCAL_STAND_INS.get(resource.env_var, resource.env_var) if local else resource.env_var)
    return frozenset(names)


# -- reading -----------------------------------------------------------------------------

_function_env: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "hub_function_env", default=None
)


@contextmanager
def function_environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Runs the block (and what it starts with a copy of its context) seeing only `variables`."""
    token = _function_env.set(dict(variables))
    try:
        yield
    finally:
        _function_env.reset(token)


def environ() -> Mapping[str, str]:
    """The running function's environment: the invoker's, else the process's (Lambda)."""
    override = _function_env.get()
    return os.environ if override is None else override


class MissingSetting(RuntimeError):
    """A variable naming one of the stack's resources is not set: there is no fallback name."""


def env(name: str) -> str:
    """The value of a declared setting, falling back to its default; a table or queue variable has none."""
    value = environ().get(name) or _DEFAULTS[name]
    if not value and name in _REQUIRED:
        raise MissingSetting(f"{name} is not set: this function has no access to that resource")
    return value


def has(name: str) -> bool:
    return bool(environ().get(name))


def check_environment() -> None:
    """At init in the cloud: every resource variable of the running function is set, or fail naming it."""
    variables = environ()
    if (variables.get("HUB_LOCAL") or "").lower() == "true":
        return
    name = variables.get(HUB_FUNCTION)
    if not name:
        raise MissingSetting(f"{HUB_FUNCTION} is not set: the stack sets it on every function")
    missing = [r.env_var for r in resources(catalog.function(name)) if not variables.get(r.env_var)]
    if missing:
        raise MissingSetting(f"{name}: {', '.join(missing)} not set (set by the stack; no fallback names)")


@dataclass(frozen=True)
class Settings:
    retry_attempts: int
    retry_delay_ms: int
    timeout_ms: int
    log_retention_days: int
    disable_after_hours: int
    max_qr_attempts: int
    max_body_bytes: int
    dedupe_window_hours: int
    max_clock_skew_seconds: int
    max_json_depth: int
    gateway_rate_limit_per_second: int
    gateway_rate_window_seconds: int
    local: bool
    public_base_url: str
    connect_link_ttl_s: int
    connect_link_max_ttl_s: int


_LOADED = (
    "WEBHOOK_RETRY_ATTEMPTS",
    "WEBHOOK_RETRY_DELAY",
    "WEBHOOK_TIMEOUT_MS",
    "WEBHOOK_LOG_RETENTION_DAYS",
    "SUBSCRIPTION_DISABLE_AFTER_HOURS",
    "MAX_QR_ATTEMPTS",
    "MAX_BODY_BYTES",
    "DEDUPE_WINDOW_HOURS",
    "MAX_CLOCK_SKEW_SECONDS",
    "MAX_JSON_DEPTH",
    "GATEWAY_RATE_LIMIT_PER_SECOND",
    "GATEWAY_RATE_WINDOW_SECONDS",
    "HUB_LOCAL",
    "PUBLIC_BASE_URL",
    "CONNECT_LINK_TTL_S",
    "CONNECT_LINK_MAX_TTL_S",
)


def load() -> Settings:
    """The running function's settings, parsed once per distinct set of values (the cache is keyed by
    them, so functions with different environments in one process never see each other's)."""
    return _parsed(tuple(env(name) for name in _LOADED))


@lru_cache(maxsize=16)
def _parsed(values: tuple[str, ...]) -> Settings:
    raw = dict(zip(_LOADED, values, strict=True))
    return Settings(
        retry_attempts=min(max(int(raw["WEBHOOK_RETRY_ATTEMPTS"]), 0), catalog.MAX_RETRY_ATTEMPTS),
        retry_delay_ms=max(int(raw["WEBHOOK_RETRY_DELAY"]), 0),
        timeout_ms=min(max(int(raw["WEBHOOK_TIMEOUT_MS"]), 100), 30000),
        log_retention_days=max(int(raw["WEBHOOK_LOG_RETENTION_DAYS"]), 1),
        disable_after_hours=min(max(int(raw["SUBSCRIPTION_DISABLE_AFTER_HOURS"]), 1), 720),
        max_qr_attempts=max(int(raw["MAX_QR_ATTEMPTS"]), 1),
        max_body_bytes=int(raw["MAX_BODY_BYTES"]),
        dedupe_window_hours=max(int(raw["DEDUPE_WINDOW_HOURS"]), 1),
        max_clock_skew_seconds=max(int(raw["MAX_CLOCK_SKEW_SECONDS"]), 0),
        max_json_depth=min(max(int(raw["MAX_JSON_DEPTH"]), 2), 512),
        gateway_rate_limit_per_second=max(int(raw["GATEWAY_RATE_LIMIT_PER_SECOND"]), 0),
        gateway_rate_window_seconds=min(max(int(raw["GATEWAY_RATE_WINDOW_SECONDS"]), 1), 3600),
        local=raw["HUB_LOCAL"].lower() == "true",
        public_base_url=raw["PUBLIC_BASE_URL"].rstrip("/"),
        connect_link_max_ttl_s=(max_ttl := min(max(int(raw["CONNECT_LINK_MAX_TTL_S"]), 60), 86400)),
        connect_link_ttl_s=min(max(int(raw["CONNECT_LINK_TTL_S"]), 60), max_ttl),
    )


load.cache_clear = _parsed.cache_clear  # type: ignore[attr-defined]  # for callers that reset per-process caches


def table_name(table: catalog.Table) -> str:
    return env(table.env_var)
