"""Runtime settings: every environment variable the hub reads, with its default, and which
variables each function gets (`function_env_names`), the one declaration the stack, the local
hub and the tests build each function's environment from.

Each tunable setting is declared once, as a field of the pydantic model `Settings`: its variable
(the field's alias), default, bounds (`Bounds`) and description. The variables naming the stack's
tables and queues are declared on the catalog (`Table.env_var`, `Queue.env_var`, ...). `SETTINGS`
lists both for the README check, the stack and the local hub.

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
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    ValidationInfo,
    field_validator,
)
from pydantic_core import core_schema

from hub.platform import catalog


@dataclass(frozen=True)
class Bounds:
    """An integer setting's bounds. A value outside them is clamped to the nearest bound, not refused (a
    deployed function keeps working with a sane value); a value that is not an integer fails `load()`."""

    low: int
    high: int | None = None

    def clamp(self, value: int) -> int:
        value = max(value, self.low)
        return value if self.high is None else min(value, self.high)

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.clamp, handler(source))


def _env_bool(value: Any) -> bool:
    """Only `true` (any case) is true: any other text is false, as the variable was always read."""
    return value if isinstance(value, bool) else str(value).lower() == "true"


HUB_FUNCTION = "HUB_FUNCTION"
"""Every function's own catalog name: the cold-start check finds the function's declaration by it."""


def _unset(env_var: str, description: str) -> Any:
    """A text setting empty by default (most are set by the stack, or stood in for by the local hub)."""
    return Field("", alias=env_var, description=description)


class Settings(BaseModel):
    """Every tunable setting: field alias = environment variable, default, `Bounds`, description.

    `load()` builds it from the running function's environment; an empty or missing variable takes the
    default. Integers outside their `Bounds` are clamped (see `Bounds`)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    retry_attempts: Annotated[int, Bounds(0, catalog.MAX_RETRY_ATTEMPTS)] = Field(
        3,
        alias="WEBHOOK_RETRY_ATTEMPTS",
        description="Retries after the first delivery attempt (per subscription overridable, 0..10)",
    )
    retry_delay_ms: Annotated[int, Bounds(0)] = Field(
        5000, alias="WEBHOOK_RETRY_DELAY", description="Base retry delay in ms; attempt n waits base * 2**(n-1)"
    )
    timeout_ms: Annotated[int, Bounds(100, 30000)] = Field(
        10000, alias="WEBHOOK_TIMEOUT_MS", description="Subscriber request timeout in ms (max 30000)"
    )
    log_retention_days: Annotated[int, Bounds(1)] = Field(
        30, alias="WEBHOOK_LOG_RETENTION_DAYS", description="Days a delivery log is kept (DynamoDB TTL)"
    )
    disable_after_hours: Annotated[int, Bounds(1, 720)] = Field(
        120,
        alias="SUBSCRIPTION_DISABLE_AFTER_HOURS",
        description="A subscription whose every attempt has failed for this many hours is disabled (1..720; "
        "default 5 days)",
    )
    max_qr_attempts: Annotated[int, Bounds(1)] = Field(
        3,
        alias="MAX_QR_ATTEMPTS",
        description="QR codes per connection cycle before the session is auto-disconnected",
    )
    max_body_bytes: int = Field(262144, alias="MAX_BODY_BYTES", description="Largest accepted request body")
    dedupe_window_hours: Annotated[int, Bounds(1)] = Field(
        24, alias="DEDUPE_WINDOW_HOURS", description="How long a received event is remembered for duplicate detection"
    )
    max_clock_skew_seconds: Annotated[int, Bounds(0)] = Field(
        300,
        alias="MAX_CLOCK_SKEW_SECONDS",
        description="How far past the receive time an event time is trusted; later ones are ordered by the receive time",
    )
    credential_rotation_overlap_s: Annotated[int, Bounds(0, 604800)] = Field(
        86400,
        alias="CREDENTIAL_ROTATION_OVERLAP_S",
        description="Seconds an inbound secret or a gateway credential's key stays accepted after a rotation, "
        "unless the rotation asks for another overlap (0 to 604800)",
    )
    tenant_status_cache_s: Annotated[int, Bounds(0)] = Field(
        30,
        alias="TENANT_STATUS_CACHE_S",
        description="Seconds a receiver instance trusts a tenant's standing (active or revoked) before reading it "
        "again: a revoked tenant's events are refused within this long (0: read on every event)",
    )
    gateway_rate_limit_per_second: Annotated[int, Bounds(0)] = Field(
        20,
        alias="GATEWAY_RATE_LIMIT_PER_SECOND",
        description="Events per second one session's gateway may post, averaged over GATEWAY_RATE_WINDOW_SECONDS; "
        "more are refused with 429 RATE_LIMITED and Retry-After (0: no limit)",
    )
    gateway_rate_window_seconds: Annotated[int, Bounds(1, 3600)] = Field(
        10,
        alias="GATEWAY_RATE_WINDOW_SECONDS",
        description="The ingest limit's fixed window: a session may post "
        "GATEWAY_RATE_LIMIT_PER_SECOND x this many events per window, all at once (its burst)",
    )
    max_json_depth: Annotated[int, Bounds(2, 512)] = Field(
        64,
        alias="MAX_JSON_DEPTH",
        description="Deepest nesting of arrays/objects accepted in a JSON body (checked before parsing)",
    )
    local: Annotated[bool, BeforeValidator(_env_bool)] = Field(
        False,
        alias="HUB_LOCAL",
        description="true when running as the local hub: allows http:// subscribers on loopback",
    )
    public_base_url: str = _unset(
        "PUBLIC_BASE_URL", "Base URL the hub is reached at, used for receiverUrl (defaults to the request's host)"
    )
    admin_api_key: str = _unset(
        "ADMIN_API_KEY", "Operator key for /api/admin (locally; in the cloud read from ADMIN_KEY_SECRET_ARN)"
    )
    admin_key_secret_arn: str = _unset(
        "ADMIN_KEY_SECRET_ARN", "Secrets Manager secret holding the operator key (set by the stack)"
    )
    rest_api_id: str = _unset("REST_API_ID", "The REST API whose keys the tenant manager creates (set by the stack)")
    usage_plan_ids: str = _unset(
        "USAGE_PLAN_IDS",
        "JSON map of plan name to API Gateway usage plan id (set by the stack on the admin "
        "function); without it, outside HUB_LOCAL, tenants are refused",
    )
    hub_function: str = _unset(HUB_FUNCTION, "The function's catalog name (set by the stack and the local invoker)")
    service_name: str = Field(
        "wa-webhook-hub", alias="POWERTOOLS_SERVICE_NAME", description="Service name in logs, traces and metrics"
    )
    metrics_namespace: str = Field(
        "WaWebhookHub", alias="POWERTOOLS_METRICS_NAMESPACE", description="CloudWatch namespace of the hub's metrics"
    )
    log_level: str = Field("INFO", alias="LOG_LEVEL", description="Log level")
    connect_link_max_ttl_s: Annotated[int, Bounds(60, 86400)] = Field(
        86400,
        alias="CONNECT_LINK_MAX_TTL_S",
        description="Longest lifetime a connect link may ask for, in seconds (at most 24 hours)",
    )
    connect_link_ttl_s: Annotated[int, Bounds(60)] = Field(
        900,
        alias="CONNECT_LINK_TTL_S",
        description="Default lifetime of a connect link, in seconds (at most CONNECT_LINK_MAX_TTL_S)",
    )
    connect_link_secret: str = _unset(
        "CONNECT_LINK_SECRET", "Key that signs connect links (locally; in the cloud read from CONNECT_LINK_SECRET_ARN)"
    )
    connect_link_secret_arn: str = _unset(
        "CONNECT_LINK_SECRET_ARN",
        "Secrets Manager secret holding the connect-link signing key (set by the stack; "
        "its AWSPREVIOUS version still verifies after a rotation)",
    )
    connect_websocket_url: str = _unset(
        "CONNECT_WEBSOCKET_URL", "wss:// URL of the WebSocket API the connect page listens on (set by the stack)"
    )
    connections_api_endpoint: str = _unset(
        "CONNECTIONS_API_ENDPOINT",
        "https:// endpoint of the WebSocket API's @connections management API (set by the stack)",
    )
    connect_frame_ancestors: str = Field(
        "'none'",
        alias="CONNECT_FRAME_ANCESTORS",
        description="CSP frame-ancestors of the connect page: origins allowed to embed it in an iframe",
    )
    pydantic_disable_plugins: str = Field(
        "__all__",
        alias="PYDANTIC_DISABLE_PLUGINS",
        description="Read by pydantic: skips the plugin scan of installed packages at cold start",
    )

    @field_validator("public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("connect_link_ttl_s")
    @classmethod
    def _within_max_ttl(cls, value: int, info: ValidationInfo) -> int:
        return min(value, info.data.get("connect_link_max_ttl_s", value))


def _text(value: object) -> str:
    """A default as the environment spells it (`false`, not `False`)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass(frozen=True)
class Setting:
    """One environment variable the hub reads: a `Settings` field or a catalog table/queue variable."""

    env_var: str
    default: str
    description: str
    bounds: Bounds | None = None


def _model_settings() -> tuple[Setting, ...]:
    found = []
    for field in Settings.model_fields.values():
        assert field.alias, "every setting names its environment variable"
        bounds = next((m for m in field.metadata if isinstance(m, Bounds)), None)
        found.append(Setting(field.alias, _text(field.default), field.description or "", bounds))
    return tuple(found)


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


SETTINGS: tuple[Setting, ...] = (
    _model_settings()
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
"""Every variable the hub reads: the `Settings` fields, then the catalog's table and queue variables."""

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
    names = {r.env_var for f in catalog.FUNCTIONS for r in resources(f)} | _REQUIRED | {HUB_FUNCTION}
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


_VARIABLES = tuple(field.alias or name for name, field in Settings.model_fields.items())


def load() -> Settings:
    """The running function's settings, parsed once per distinct set of values (the cache is keyed by
    them, so functions with different environments in one process never see each other's). An empty or
    missing variable takes its default; integers are clamped to their `Bounds`; a value that cannot be
    parsed (`WEBHOOK_TIMEOUT_MS=soon`) raises pydantic's ValidationError naming the variable."""
    variables = environ()
    return _parsed(tuple(variables.get(name) or "" for name in _VARIABLES))


@lru_cache(maxsize=16)
def _parsed(values: tuple[str, ...]) -> Settings:
    return Settings.model_validate({name: value for name, value in zip(_VARIABLES, values, strict=True) if value})


load.cache_clear = _parsed.cache_clear  # type: ignore[attr-defined]  # for callers that reset per-process caches


def table_name(table: catalog.Table) -> str:
    return env(table.env_var)
